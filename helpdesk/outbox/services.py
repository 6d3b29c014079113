"""Outbox writers: queue a notification once per dedupe key (flush only).

Every row written here is handed to the "mail" queue after the commit
(helpdesk.core.aftercommit); a rollback forgets it, and with Redis down the outbox
sweep (workers.outbox_jobs.sweep_outbox) sends it later."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.core import aftercommit, bulk
from helpdesk.extensions import db
from helpdesk.outbox.models import Notification

#: The RQ job that delivers one notification.
JOB = "workers.outbox_jobs.deliver_notification"


def delivery_job(note_id: int) -> aftercommit.Job:
    """The job that sends notification ``note_id`` (one per row: its id names it)."""
    return aftercommit.Job("mail", JOB, (note_id,), job_id=f"outbox-{note_id}", timeout=120,
                           result_ttl=0, failure_ttl=86400, owner="helpdesk.outbox.delivery",
                           what="notification", fallback="the outbox sweep will send them")


#: The RQ job that delivers a batch of notifications written together.
BATCH_JOB = "workers.outbox_jobs.deliver_notifications"


def delivery_batch_job(note_ids: list[int]) -> aftercommit.Job:
    """One job for the notifications written together (a ticket change's mails, an
    incident update's to every linked school): queuing an RQ job costs the writer a
    fraction of a millisecond each, which the request of every change pays and thousands
    of rows cannot afford. Each row is still claimed and sent on its own."""
    return aftercommit.Job("mail", BATCH_JOB, (list(note_ids),),
                           job_id=f"outbox-batch-{note_ids[0]}-{note_ids[-1]}", timeout=3600,
                           result_ttl=0, failure_ttl=86400, owner="helpdesk.outbox.delivery",
                           what="notifications", fallback="the outbox sweep will send them")


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

    try:
        with db.session.begin_nested():
            db.session.add(note)
    except IntegrityError:
        return None
    aftercommit.after_commit(delivery_job(note.id))
    return note


def queue_notifications(rows: list[dict]) -> list[int]:
    """Add pending notifications in one statement; returns the ids of the rows added.

    Each row has the arguments of ``queue_notification``. A row whose dedupe key is
    already queued (before, by a concurrent writer, or earlier in ``rows``) is skipped:
    ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING``. No ORM objects are made, so the
    rows are not in ``session.new``. The rows added go to the queue as one RQ job
    (``delivery_batch_job``; ``delivery_job`` for a single row).
    """
    if not rows:
        return []
    # One statement whatever the number of rows (helpdesk.core.bulk).
    ids = sorted(r.id for r in bulk.insert_rows(
        db.session, Notification.__table__, [_values(**row) for row in rows],
        returning=("id",), on_conflict_do_nothing="dedupe_key"))
    if ids:
        aftercommit.after_commit(delivery_job(ids[0]) if len(ids) == 1
                                 else delivery_batch_job(ids))
    return ids


def _values(*, kind: str, recipient_email: str, subject: str, body: str = "",
            dedupe_key: str, now: datetime, ticket_id: int | None = None,
            locale: str = "el", body_html: str | None = None,
            recipient_user_id: int | None = None, message_id: str | None = None,
            is_automatic: bool = True) -> dict:
    return dict(kind=kind, recipient_email=recipient_email, ticket_id=ticket_id,
                subject=subject[:300], body=body, dedupe_key=dedupe_key[:200], created_at=now,
                status="pending", attempts=0, locale=locale, body_html=body_html,
                recipient_user_id=recipient_user_id, message_id=message_id,
                is_automatic=is_automatic)
