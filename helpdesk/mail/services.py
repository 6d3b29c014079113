"""Writers of the quarantine: an administrator assigns, re-queues or discards; and the
outbox rows a bounce reports (flush only).

After commit the caller runs ``helpdesk.mail.process.run`` for a message put back to
"received"; processing is guarded, so running it twice does nothing more.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from helpdesk.accounts.models import User
from helpdesk.core.errors import Conflict
from helpdesk.extensions import db
from helpdesk.mail import bounces, queries
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.mail.parse import parse_message
from helpdesk.org.models import School
from helpdesk.outbox.suppressions import record_bounce
from helpdesk.permissions import require_admin

#: What an administrator may take back out of each status.
_REPROCESSABLE = (InboundStatus.QUARANTINED, InboundStatus.IGNORED)


def _note(row: InboundMessage, text: str) -> None:
    row.detail = f"{row.detail}\n{text}" if row.detail else text


def _back_to_received(row: InboundMessage) -> None:
    if row.status not in _REPROCESSABLE:
        raise Conflict(_l("Only quarantined or ignored messages can be processed again."))
    row.status, row.reason, row.processed_at, row.attempts = InboundStatus.RECEIVED, None, None, 0


def assign_school(actor: User, row: InboundMessage, school: School, *, now: datetime) -> None:
    """File a quarantined message for ``school`` (the administrator vouches for the sender)."""
    require_admin(actor)
    _back_to_received(row)
    row.school_id = school.id
    _note(row, f"{now.isoformat()} assigned to school {school.code} by {actor.email}")
    db.session.flush()


def reprocess(actor: User, row: InboundMessage, *, now: datetime) -> None:
    """Put a message back in line (e.g. after registering its sender)."""
    require_admin(actor)
    _back_to_received(row)
    _note(row, f"{now.isoformat()} reprocessed by {actor.email}")
    db.session.flush()


def discard(actor: User, row: InboundMessage, *, now: datetime) -> None:
    """Drop a quarantined message for good; the raw bytes stay for the record."""
    require_admin(actor)
    if row.status != InboundStatus.QUARANTINED:
        raise Conflict(_l("Only quarantined messages can be discarded."))
    row.status, row.reason, row.processed_at = InboundStatus.IGNORED, "discarded", now
    _note(row, f"{now.isoformat()} discarded by {actor.email}")
    db.session.flush()


def record_bounces(row: InboundMessage, *, now: datetime) -> str:
    """Mark the outbox rows a bounce reports as failed (helpdesk.mail.bounces); the note
    for the administrator. Only rows named by a Message-ID of ours are touched."""
    report = bounces.read(parse_message(row.raw), row.raw)
    if report is None:
        return "bounce: no failure could be read"
    notes = queries.notifications_by_message_ids(report.message_ids,
                                                 current_app.config["SECRET_KEY"])
    lines = []
    for failure in report.failures:
        note = next((n for n in notes if n.recipient_email.lower() == failure.address), None)
        if note is None and len(notes) == 1 and len(report.failures) == 1:
            note = notes[0]  # the address was rewritten on the way (a forward, an alias)
        if note is None:
            lines.append(f"{failure.address} {failure.status}: no notification of ours")
            continue
        record_bounce(note, status=failure.status, diagnostic=failure.diagnostic, now=now)
        lines.append(f"{failure.address} {failure.status}: notification {note.id}")
    return f"bounce ({report.source}): " + "; ".join(lines or ["no failed recipient"])
