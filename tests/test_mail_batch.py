"""The worker's path: several stored messages in one transaction, with the same guarantees
as one at a time (exactly once, failures quarantined, a dying worker does not lose or
loop), and doors that queue one job per burst instead of one per message."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from helpdesk.core.errors import ValidationFailed
from helpdesk.mail import process, store
from helpdesk.mail.models import InboundMessage
from helpdesk.outbox.models import Notification
from helpdesk.tickets.models import Ticket
from tests import factories as f
from tests.test_mail_doors import message


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing on the way catches it."""


@pytest.fixture
def schools(db):
    return [f.make_school() for _ in range(3)]


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)


def stored(schools, n: int, start: int = 100) -> list[int]:
    return [store.accept(message(start + i, schools[i % len(schools)].email), source="test",
                         now=f.at(0))[0] for i in range(n)]


def rows(db, ids) -> list[InboundMessage]:
    db.session.expire_all()
    return [db.session.get(InboundMessage, i) for i in ids]


def clock():
    return f.at(1)


def tickets(db) -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


def test_one_job_processes_every_waiting_message_once(app, db, schools, query_counter):
    ids = stored(schools, 7)
    before = tickets(db)
    with query_counter() as q:
        assert process.run_job(ids[3], clock=clock, limit=5) == "processed"
    got = rows(db, ids)
    assert [r.status for r in got] == ["processed"] * 7
    assert all(r.attempts == 1 for r in got)
    assert tickets(db) == before + 7
    assert len({r.ticket_id for r in got}) == 7
    for r in got:  # each ticket is the sender's, with its notifications
        ticket = db.session.get(Ticket, r.ticket_id)
        assert ticket.school_id == schools[ids.index(r.id) % 3].id
        assert db.session.scalar(select(func.count(Notification.id))
                                 .where(Notification.ticket_id == ticket.id)) >= 1
    # two batches (5 + 2); each counts, claims, loads its rows and counts their senders'
    # recent mail once, then writes each row once; who the senders are: once a batch
    on_inbound = [s for s in q.statements if "inbound_messages" in s.split("WHERE")[0]]
    assert len(on_inbound) == 2 * 4 + 7
    lookups = [s for s in q.statements if re.match(r"SELECT (users|schools|categories)\.id\b", s)]
    assert len(lookups) <= 2 * 3
    # the jobs the other messages had find them done and create nothing
    assert [process.run_job(i, clock=clock, limit=5) for i in ids] == ["processed"] * 7
    assert [process.run(i, now=f.at(2)) for i in ids] == ["processed"] * 7
    assert tickets(db) == before + 7
    assert all(r.attempts == 1 for r in rows(db, ids))


def test_a_batch_gives_what_one_at_a_time_gives(app, db, schools, monkeypatch):
    """Rate limit, strangers and machine mail decided the same way inside a batch."""
    monkeypatch.setitem(app.config, "MAIL_INBOUND_MAX_PER_HOUR", 3)
    flood = [store.accept(message(200 + i, schools[0].email), source="test", now=f.at(0))[0]
             for i in range(4)]
    calm = [store.accept(message(210 + i, schools[1].email), source="test", now=f.at(0))[0]
            for i in range(2)]
    stranger = store.accept(message(220, "someone@example.com"), source="test", now=f.at(0))[0]
    auto = store.accept(message(221, schools[2].email).replace(
        b"MIME-Version", b"Auto-Submitted: auto-replied\r\nMIME-Version"), source="test",
        now=f.at(0))[0]
    process.run_job(flood[0], clock=clock, limit=50)
    got = {r.id: (r.status, r.reason) for r in rows(db, [*flood, *calm, stranger, auto])}
    assert {got[i] for i in flood} == {("quarantined", "rate_limited")}
    assert {got[i] for i in calm} == {("processed", None)}
    assert got[stranger] == ("quarantined", "unknown_sender")
    assert got[auto] == ("ignored", "auto_reply")


def test_a_failing_message_does_not_take_its_batch_with_it(app, db, schools, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 1)
    ids = stored(schools, 6)
    invalid, broken = ids[1], ids[4]
    real_handle = process.handle

    def handle(row, **kwargs):
        real_handle(row, **kwargs)  # the ticket is flushed, then it goes wrong
        if row.id == invalid:
            raise ValidationFailed("description", "Unknown category.")
        if row.id == broken:
            raise RuntimeError("boom")

    monkeypatch.setattr(process, "handle", handle)
    before = tickets(db)
    process.run_job(ids[0], clock=clock, limit=10)
    got = {r.id: r for r in rows(db, ids)}
    assert (got[invalid].status, got[invalid].reason) == ("quarantined", "invalid")
    assert (got[broken].status, got[broken].reason) == ("quarantined", "error")
    assert "boom" in got[broken].detail
    assert all(got[i].status == "processed" for i in ids if i not in (invalid, broken))
    assert tickets(db) == before + 4  # nothing of the two failures was kept
    assert all(r.attempts == 1 for r in got.values())


def test_an_error_before_the_last_attempt_leaves_it_waiting(app, db, schools, monkeypatch):
    ids = stored(schools, 3)
    real_handle = process.handle

    def handle(row, **kwargs):
        if row.id == ids[1]:
            raise RuntimeError("database hiccup")
        real_handle(row, **kwargs)

    monkeypatch.setattr(process, "handle", handle)
    process.run_job(ids[0], clock=clock, limit=10)
    got = rows(db, ids)
    assert [r.status for r in got] == ["processed", "received", "processed"]
    assert "hiccup" in got[1].detail
    monkeypatch.setattr(process, "handle", real_handle)
    assert process.run_job(ids[1], clock=clock) == "processed"


def test_a_worker_killed_in_a_batch_loses_nothing_and_the_poison_ends_alone(
        app, db, schools, monkeypatch):
    ids = stored(schools, 4)
    poison = ids[2]
    real_handle = process.handle

    def handle(row, **kwargs):
        if row.id == poison:
            raise Killed()
        real_handle(row, **kwargs)

    monkeypatch.setattr(process, "handle", handle)
    before = tickets(db)
    with pytest.raises(Killed):
        process.run_job(ids[0], clock=clock, limit=10)
    db.session.rollback()  # the dead worker's transaction goes with it
    got = rows(db, ids)
    assert [(r.status, r.attempts) for r in got] == [("received", 1)] * 4
    assert tickets(db) == before
    # a new job does not take them as part of a batch again (they were attempted) ...
    process.run_job(None, clock=clock, limit=10)
    assert [r.status for r in rows(db, ids)] == ["received"] * 4
    # ... the sweep queues each, and each is then done alone
    for _ in range(app.config["MAIL_MAX_ATTEMPTS"]):
        for i in ids:
            try:
                process.run_job(i, clock=clock, limit=10)
            except Killed:
                db.session.rollback()
    got = {r.id: r for r in rows(db, ids)}
    assert all(got[i].status == "processed" for i in ids if i != poison)
    assert (got[poison].status, got[poison].reason) == ("quarantined", "too_many_attempts")
    assert tickets(db) == before + 3


def test_a_message_another_worker_holds_is_left_to_it(app, db, schools):
    ids = stored(schools, 3)
    assert process.run(ids[1], now=f.at(1)) == "processed"
    statuses = process.process_counted({ids[0]: 1, ids[1]: 1, ids[2]: 1}, clock)
    assert set(statuses) == {ids[0], ids[2]}  # ids[1] was no longer waiting: not claimed
    assert all(r.status == "processed" for r in rows(db, ids))


def test_the_store_sends_one_insert(app, db, schools, query_counter):
    raw = message(300, schools[0].email)
    with query_counter() as q:
        inbound_id, created = store.accept(raw, source="test", now=f.at(0))
    assert created
    assert [s.split()[0] for s in q.statements] == ["INSERT"]
    with query_counter() as q:
        assert store.accept(raw, source="test", now=f.at(0)) == (inbound_id, False)
    assert [s.split()[0] for s in q.statements] == ["INSERT", "SELECT"]
    row = db.session.get(InboundMessage, inbound_id)
    assert (row.from_addr, row.subject, row.size) == (schools[0].email, "Βλάβη υπολογιστή 300",
                                                      len(raw))


def test_doors_queue_one_job_for_a_burst(app, db, schools, redis_server, monkeypatch):
    from rq import SimpleWorker

    from helpdesk.core import redisconn

    monkeypatch.undo()  # the real enqueue_processing
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server)
    app.extensions.pop("redis", None)
    try:
        queue = redisconn.get_queue("mail")
        queue.empty()
        redisconn.get_redis().delete(store.JOB_QUEUED_KEY)
        ids = stored(schools, 5, start=400)
        inbound = [j for j in queue.get_jobs() if j.func_name.endswith("process_inbound")]
        assert [j.args for j in inbound] == [(ids[0],)]
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert [r.status for r in rows(db, ids)] == ["processed"] * 5
        # the job has started, so the next message queues the next job
        later = stored(schools, 1, start=410)
        inbound = [j for j in queue.get_jobs() if j.func_name.endswith("process_inbound")]
        assert [j.args for j in inbound] == [(later[0],)]
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert rows(db, later)[0].status == "processed"
    finally:
        app.extensions.pop("redis", None)
