"""Outbox writers: queue a notification once per dedupe key (flush only)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.outbox.models import Notification


def queue_notification(*, kind: str, recipient_email: str, subject: str, body: str = "",
                       dedupe_key: str, now: datetime,
                       ticket_id: int | None = None, **delivery) -> Notification | None:
    """Add a pending notification; None when one with this key already exists.

    ``delivery``: the optional delivery columns (locale, body_html, recipient_user_id,
    message_id, is_automatic).

    Concurrent writers of the same key are stopped by the unique index: the insert runs
    in a SAVEPOINT so the loser's transaction carries on.
    """
    if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)):
        return None
    note = Notification(kind=kind, recipient_email=recipient_email, ticket_id=ticket_id,
                        subject=subject[:300], body=body, dedupe_key=dedupe_key[:200],
                        created_at=now, **delivery)
    from sqlalchemy.exc import IntegrityError

    try:
        with db.session.begin_nested():
            db.session.add(note)
    except IntegrityError:
        return None
    return note
