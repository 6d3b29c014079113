"""The outbox family: one life for every row of an outgoing effect.

Mail notifications (helpdesk.outbox.models.Notification) and webhook deliveries
(helpdesk.api.webhook_models.WebhookDelivery) are rows written in the transaction of the
change they report, with the same columns for their delivery: ``status``, ``attempts``,
``next_attempt_at``, ``claimed_at``, ``sent_at``, ``last_error``. Their life is the same
and is written here once, as functions of the model:

    pending ──claim──▶ sending ──▶ sent
       ▲                 │
       └── back-off ◀────┤ (a temporary failure while attempts remain)
                         └──▶ failed (a permanent failure, or out of attempts)

- ``claim``: pending and due → sending, attempts + 1, for one caller only (one UPDATE);
  the caller commits before it acts, so two workers never both send a row;
- ``release_stale``: a row left in sending longer than its lease (its worker died) is
  pending again;
- ``due_ids``: what the periodic sweep hands to RQ (helpdesk.core.aftercommit);
- ``mark_sent`` / ``retry_or_fail``: the outcome of an attempt; each family says how long
  to wait after a failed attempt and when to give up (a delay of None).

Nothing here commits: the jobs (workers.outbox_jobs, workers.webhook_jobs) do.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, or_, select, update

from helpdesk.extensions import db


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"        #: temporary failure: pending again, after next_attempt_at
    FAILED = "failed"      #: permanent failure (or out of attempts)
    SKIPPED = "skipped"    #: not ours to send now (sent, claimed elsewhere, not due, gone)
    SUPPRESSED = "suppressed"  #: not sent: the address hard-bounced repeatedly


def is_due(model, now: datetime):
    """The rows of ``model`` waiting for an attempt whose time has come."""
    return and_(model.status == "pending",
                or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now))


def claim(model, row_id: int, now: datetime) -> bool:
    """pending and due → sending, attempts + 1, for this caller only (the caller commits)."""
    result = db.session.execute(
        update(model).where(model.id == row_id, is_due(model, now))
        .values(status="sending", claimed_at=now, attempts=model.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_stale(model, now: datetime, lease: timedelta) -> int:
    """Rows left in sending by a worker that died go back to pending (the caller commits)."""
    result = db.session.execute(
        update(model).where(model.status == "sending", model.claimed_at < now - lease)
        .values(status="pending", claimed_at=None)
        .execution_options(synchronize_session=False))
    return result.rowcount


def due_ids(model, now: datetime, limit: int = 500) -> list[int]:
    """The ids of the due rows of ``model``, oldest first."""
    return list(db.session.scalars(select(model.id).where(is_due(model, now))
                                   .order_by(model.id).limit(limit)))


def mark_sent(row, now: datetime) -> Outcome:
    row.status, row.sent_at, row.claimed_at, row.last_error = "sent", now, None, None
    return Outcome.SENT


def retry_or_fail(row, now: datetime, error: str, delay: timedelta | None) -> Outcome:
    """After a failed attempt: pending again in ``delay``, or failed for good (None)."""
    row.claimed_at, row.last_error = None, (error or "")[:2000]
    if delay is None:
        row.status = "failed"
        return Outcome.FAILED
    row.status, row.next_attempt_at = "pending", now + delay
    return Outcome.RETRY


def exponential(attempts: int, base: int, cap: int) -> timedelta:
    """base, 2·base, 4·base, … seconds after the 1st, 2nd, 3rd … attempt, at most cap."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))
