"""Faults: a worker dying mid-processing, Redis down while mail arrives, a poison message."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.mail import process, store
from helpdesk.mail.models import InboundMessage
from helpdesk.tickets.models import Ticket
from tests import factories as f
from tests.test_mail_doors import message


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing on the way catches it."""


def tickets_of(db, school) -> int:
    return db.session.scalar(select(func.count(Ticket.id)).where(Ticket.school_id == school.id))


@pytest.fixture
def school(db):
    return f.make_school()


def test_worker_killed_after_the_ticket_was_written_processes_once_after_restart(
        app, db, school, monkeypatch):
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    inbound_id, _ = store.accept(message(1, school.email), source="test", now=f.at(0))
    real_handle = process.handle

    def handle_then_die(row, *, now):
        real_handle(row, now=now)  # the ticket is flushed, not committed
        raise Killed()

    monkeypatch.setattr(process, "handle", handle_then_die)
    with pytest.raises(Killed):
        process.run(inbound_id, now=f.at(1))
    db.session.rollback()  # the dead worker's connection goes, and its transaction with it
    row = db.session.get(InboundMessage, inbound_id)
    assert (row.status, row.attempts, tickets_of(db, school)) == ("received", 1, 0)

    monkeypatch.setattr(process, "handle", real_handle)
    assert process.run(inbound_id, now=f.at(2)) == "processed"
    assert process.run(inbound_id, now=f.at(3)) == "processed"
    assert tickets_of(db, school) == 1


def test_a_message_that_keeps_killing_workers_ends_in_quarantine(app, db, school, monkeypatch):
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    inbound_id, _ = store.accept(message(2, school.email), source="test", now=f.at(0))

    def die(row, *, now):
        raise Killed()

    monkeypatch.setattr(process, "handle", die)
    for _ in range(app.config["MAIL_MAX_ATTEMPTS"]):
        with pytest.raises(Killed):
            process.run(inbound_id, now=f.at(1))
        db.session.rollback()
    assert process.run(inbound_id, now=f.at(2)) == "quarantined"
    assert db.session.get(InboundMessage, inbound_id).reason == "too_many_attempts"


def test_an_error_in_one_message_does_not_stop_the_next(app, db, school, monkeypatch):
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 1)
    bad, _ = store.accept(message(3, school.email), source="test", now=f.at(0))
    good, _ = store.accept(message(4, school.email), source="test", now=f.at(0))
    real_handle = process.handle

    def fail_first(row, *, now):
        if row.id == bad:
            raise RuntimeError("boom")
        real_handle(row, now=now)

    monkeypatch.setattr(process, "handle", fail_first)
    assert process.run(bad, now=f.at(1)) == "quarantined"
    assert "boom" in db.session.get(InboundMessage, bad).detail
    assert process.run(good, now=f.at(1)) == "processed"


def test_redis_down_while_mail_arrives_then_the_sweep_delivers(app, db, school, redis_server,
                                                               monkeypatch):
    from rq import SimpleWorker

    from helpdesk.core import redisconn
    from workers.mail_jobs import sweep_inbound

    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    app.extensions.pop("redis", None)
    try:
        ids = [store.accept(message(10 + n, school.email), source="test", now=f.at(0))[0]
               for n in range(3)]
        assert all(db.session.get(InboundMessage, i).status == "received" for i in ids)
        app.config["REDIS_URL"] = redis_server  # Redis is back
        app.extensions.pop("redis", None)
        assert sweep_inbound() >= 3
        queue = redisconn.get_queue("mail")
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    finally:
        app.extensions.pop("redis", None)
    db.session.expire_all()
    assert [db.session.get(InboundMessage, i).status for i in ids] == ["processed"] * 3
    assert tickets_of(db, school) == 3
