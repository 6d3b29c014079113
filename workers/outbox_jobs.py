"""RQ jobs of the outbox: deliver one notification; sweep up what is still unsent.

Both are safe to run twice and at once: a notification is claimed (pending → sending)
in its own committed UPDATE before the mail goes out, so only one worker sends it.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.outbox import delivery
from workers import app_context

log = logging.getLogger(__name__)


def deliver_notification(note_id: int) -> str:
    """Send notification ``note_id`` if it is pending and due; returns the outcome."""
    with app_context():
        now = utcnow()
        if not delivery.claim(note_id, now):
            db.session.rollback()
            return delivery.Outcome.SKIPPED.value
        delivery.ensure_message_id(note_id)
        db.session.commit()  # the claim is visible: no other worker sends this one
        try:
            outcome = delivery.attempt(note_id, now)
        except Exception:
            db.session.rollback()  # the row stays "sending"; the sweep releases it later
            raise
        db.session.commit()
        return outcome.value


def deliver_notifications(note_ids: list[int]) -> dict[str, int]:
    """Send many notifications (a bulk write's: helpdesk.outbox.services.delivery_batch_job),
    each claimed and committed on its own as ``deliver_notification`` does; one that fails
    stays for the sweep and the others go on. Returns how many ended how."""
    counts: dict[str, int] = {}
    for note_id in note_ids:
        try:
            outcome = deliver_notification(note_id)
        except Exception:  # noqa: BLE001 - the sweep releases and retries that one
            log.exception("notification %s could not be sent", note_id)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def sweep_outbox(limit: int = 500) -> int:
    """Release stale claims and queue the pending notifications that are due; returns how
    many were queued."""
    with app_context() as app:
        now = utcnow()
        lease = timedelta(seconds=app.config["MAIL_SEND_LEASE_SECONDS"])
        released = delivery.release_stale(now, lease)
        db.session.commit()
        if released:
            log.warning("released %d notification(s) left in sending", released)
        queued = delivery.enqueue(delivery.due_ids(now, limit))
        db.session.rollback()
        return queued
