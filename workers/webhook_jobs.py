"""Webhook delivery jobs: one delivery by id, and the sweep that re-queues due ones."""
from datetime import timedelta

from helpdesk.api import webhooks
from helpdesk.core import aftercommit
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from workers import app_context


def deliver_webhook(delivery_id: int) -> str:
    """Send one delivery if it is still pending (safe to run twice)."""
    with app_context():
        delivery = webhooks.claim(delivery_id, now=utcnow())
        if delivery is None:
            db.session.rollback()
            return "skipped"
        db.session.commit()  # the claim is visible: no other worker calls this one
        webhooks.deliver(delivery, now=utcnow())
        db.session.commit()
        return delivery.status


def sweep_webhooks() -> int:
    """Re-queue due deliveries (after Redis was down, or after a back-off); returns how
    many were queued."""
    with app_context():
        ids = webhooks.due_ids(now=utcnow(), stale_after=timedelta(minutes=10))
        db.session.commit()
        return aftercommit.enqueue_many((webhooks.delivery_job(i) for i in ids), skip_busy=True)
