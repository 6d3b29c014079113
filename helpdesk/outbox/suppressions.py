"""Bounced notifications and the addresses we stop mailing (flush only; callers commit).

A bounce matched to one of our outbox rows marks that row failed with the reported
status. Each hard bounce (5.x.x) of an address counts; after
MAIL_SUPPRESS_AFTER_HARD_BOUNCES of them the address is suppressed: its notifications
are not sent but marked ``suppressed`` (shown to staff on the ticket) until an
administrator clears it. Soft bounces (4.x.x) are counted and never suppress.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from helpdesk.core.errors import NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.outbox.models import Notification, Suppression
from helpdesk.permissions import can_manage_mail

log = logging.getLogger(__name__)


def record_bounce(note: Notification, *, status: str, diagnostic: str,
                  now: datetime) -> Suppression:
    """Mark ``note`` as bounced and count the bounce against its address."""
    hard = status.startswith("5")
    if hard:
        note.status = "failed"
    note.bounce_status, note.bounced_at = status[:12], now
    note.last_error = f"bounce {status}: {diagnostic}"[:2000]
    row = _row(note.recipient_email, now)
    row.last_at, row.last_status, row.reason = now, status[:12], diagnostic[:2000] or None
    if hard:
        row.hard_count += 1
        limit = current_app.config.get("MAIL_SUPPRESS_AFTER_HARD_BOUNCES", 2)
        if row.hard_count >= limit and not row.is_suppressed:
            row.is_suppressed = True
            log.warning("suppressing %s after %d hard bounces", row.address, row.hard_count)
    else:
        row.soft_count += 1
    db.session.flush()
    return row


def _row(address: str, now: datetime) -> Suppression:
    address = address.strip().lower()
    row = db.session.scalar(select(Suppression).where(Suppression.address == address))
    if row is None:
        row = Suppression(address=address, hard_count=0, soft_count=0, is_suppressed=False,
                          first_at=now, last_at=now)
        db.session.add(row)
    return row


def is_suppressed(address: str) -> bool:
    return bool(db.session.scalar(select(Suppression.id).where(
        Suppression.address == (address or "").strip().lower(),
        Suppression.is_suppressed.is_(True))))


def list_suppressions(*, only_active: bool = False, limit: int = 500) -> list[Suppression]:
    stmt = select(Suppression).order_by(Suppression.is_suppressed.desc(),
                                        Suppression.last_at.desc()).limit(limit)
    if only_active:
        stmt = stmt.where(Suppression.is_suppressed.is_(True))
    return list(db.session.scalars(stmt))


def clear(actor, address: str, *, now: datetime) -> Suppression:
    """Mail ``address`` again (an administrator fixed it); who and when are kept."""
    if actor is not None and not can_manage_mail(actor):
        raise PermissionDenied()
    row = db.session.scalar(select(Suppression).where(
        func.lower(Suppression.address) == (address or "").strip().lower()))
    if row is None:
        raise NotFound()
    row.is_suppressed, row.hard_count = False, 0
    row.cleared_by_id, row.cleared_at = (actor.id if actor is not None else None), now
    log.info("suppression of %s cleared by %s", row.address,
             actor.email if actor is not None else "the command line")
    db.session.flush()
    return row
