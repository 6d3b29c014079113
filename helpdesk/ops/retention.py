"""Retention: closed tickets lose their personal data RETENTION_YEARS after closing.

A public body keeps a request's personal data only as long as it needs it (GDPR art. 5
(1)(e)). What a report counts stays: school, unit, category, level, dates, SLA figures,
the kinds of the timeline's events. What names or describes people goes: the subject and
description, every message's text and sender address, the reasons written on events,
the files, the mails sent about the ticket (with their delivery errors, which quote
addresses) and the mails received for it (raw, sender, subject, quoted text, notes).
Packages above this one that keep a ticket's personal data elsewhere register a ``Part``
at start-up (helpdesk.app_setup: the webhook deliveries' payloads), so every run and dry
run covers them too. The ticket is stamped ``anonymised_at``; a batch is one transaction,
and the files are deleted only after it commits. ``dry_run`` counts without changing
anything.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from helpdesk.core import filestore
from helpdesk.extensions import db
from helpdesk.mail.models import InboundMessage
from helpdesk.outbox.models import Notification
from helpdesk.tickets import search
from helpdesk.tickets.models import Attachment, Message, Ticket, TicketEvent
from helpdesk.tickets.states import Status

log = logging.getLogger(__name__)

#: What replaces a removed text (Greek first: the staff read it on the ticket page).
REMOVED = "[Ανωνυμοποιήθηκε / anonymised]"


def cutoff(now: datetime, years: int) -> datetime | None:
    """Tickets closed before this lose their personal data; None when retention is off."""
    if years <= 0:
        return None
    return now - timedelta(days=round(365.25 * years))


@dataclass(frozen=True)
class Part:
    """Personal data of tickets kept by a package above this one (which registers it).

    ``count(ids)``: its rows about the tickets ``ids`` (a SELECT of ticket ids) selects;
    ``anonymise(session, ids)``: remove the personal data of its rows about the tickets
    with these ids, in the session's transaction, and return how many rows it changed."""

    name: str
    count: Callable[[Select], int]
    anonymise: Callable[[Session, list[int]], int]


#: The registered parts, by name (helpdesk.app_setup registers them; idempotent).
_PARTS: dict[str, Part] = {}


def register(*parts: Part) -> None:
    for part in parts:
        _PARTS[part.name] = part


@dataclass
class Result:
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    notifications: int = 0
    inbound: int = 0
    #: Rows changed by each registered part, by its name.
    parts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def add(self, other: Result) -> None:
        for name in ("tickets", "messages", "attachments", "notifications", "inbound"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name, count in other.parts.items():
            self.parts[name] = self.parts.get(name, 0) + count

    def describe(self) -> str:
        """What changed (or would), for the command's output."""
        return ", ".join([f"{self.messages} messages", f"{self.attachments} files",
                          f"{self.notifications} mails sent", f"{self.inbound} mails received",
                          *(f"{count} {name}" for name, count in sorted(self.parts.items()))])


def due(before: datetime):
    return (select(Ticket.id).where(Ticket.status == Status.CLOSED,
                                    Ticket.closed_at < before,
                                    Ticket.anonymised_at.is_(None))
            .order_by(Ticket.closed_at, Ticket.id))


def count_due(before: datetime) -> Result:
    """What a run would change, counted in SQL (the dry run)."""
    ids = due(before).order_by(None).subquery()
    in_due = select(ids.c.id)

    def count(model, column) -> int:
        return db.session.scalar(select(func.count()).select_from(model)
                                 .where(column.in_(in_due))) or 0

    return Result(tickets=db.session.scalar(select(func.count()).select_from(ids)) or 0,
                  messages=count(Message, Message.ticket_id),
                  attachments=count(Attachment, Attachment.ticket_id),
                  notifications=count(Notification, Notification.ticket_id),
                  inbound=count(InboundMessage, InboundMessage.ticket_id),
                  parts={name: part.count(in_due) for name, part in _PARTS.items()})


def anonymise_batch(before: datetime, now: datetime, limit: int = 200) -> Result:
    """Anonymise up to ``limit`` due tickets in the current transaction (flushed, not
    committed); the caller commits, then calls ``remove_files`` with ``result.files``."""
    ids = list(db.session.scalars(due(before).limit(limit)))
    result = Result(tickets=len(ids))
    if not ids:
        return result
    session = db.session
    session.execute(update(Ticket).where(Ticket.id.in_(ids)).values(
        subject=REMOVED, description=REMOVED, search_text="", rating_comment=None,
        anonymised_at=now),
        execution_options={"synchronize_session": False})
    search.unindex(session, ids)
    result.messages = session.execute(update(Message).where(Message.ticket_id.in_(ids)).values(
        body=REMOVED, author_email=None),
        execution_options={"synchronize_session": False}).rowcount
    session.execute(update(TicketEvent).where(TicketEvent.ticket_id.in_(ids)).values(
        reason=None, actor_email=None, reason_params=None),
        execution_options={"synchronize_session": False})
    result.files = list(session.scalars(select(Attachment.stored_name)
                                        .where(Attachment.ticket_id.in_(ids))))
    filestore.discard(session, "attachments", result.files)
    result.attachments = session.execute(delete(Attachment).where(Attachment.ticket_id.in_(ids)),
                                         execution_options={"synchronize_session": False}
                                         ).rowcount
    result.notifications = session.execute(
        update(Notification).where(Notification.ticket_id.in_(ids)).values(
            recipient_email="", subject=REMOVED, body="", body_html=None, last_error=None),
        execution_options={"synchronize_session": False}).rowcount
    result.inbound = session.execute(
        update(InboundMessage).where(InboundMessage.ticket_id.in_(ids)).values(
            raw=b"", from_addr=None, subject=None, quoted_text=None, detail=None),
        execution_options={"synchronize_session": False}).rowcount
    result.parts = {name: part.anonymise(session, ids) for name, part in _PARTS.items()}
    session.flush()
    return result


def run(before: datetime, now: datetime, *, commit, batch: int = 200,
        session: Session | None = None) -> Result:
    """Anonymise every due ticket, ``batch`` per transaction; returns the totals."""
    total = Result()
    while True:
        result = anonymise_batch(before, now, limit=batch)
        if not result.tickets:
            return total
        commit()
        total.add(result)
        log.info("retention: anonymised %d tickets closed before %s", result.tickets,
                 before.date().isoformat())
