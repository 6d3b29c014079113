"""Which ticket a message belongs to, and as whom it may act (pure: no Flask, no DB).

The From address is only a claim. A signed Message-ID of ours in In-Reply-To or
References is proof that the writer received that mail; the reference in the subject
is a hint honoured only for the ticket's participants. By e-mail a school can file,
reply and reopen (within the window); a technician can only reply publicly, and only
when the signed Message-ID names that very technician.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from helpdesk.mail.ids import ThreadRef
from helpdesk.mail.meaning import Meaning

OPEN = frozenset({"new", "open", "waiting"})


class Action(StrEnum):
    NEW_TICKET = "new_ticket"
    REPLY = "reply"                  #: the school answers an open ticket
    REOPEN = "reopen"                #: the school answers a ticket resolved within the window
    FOLLOW_UP = "follow_up"          #: a new ticket linked to one closed too long ago
    STAFF_REPLY = "staff_reply"      #: the technician the signed Message-ID names
    CONFIRM = "confirm"              #: the school thanks for a resolved ticket: it works
    THANKS = "thanks"                #: … for one already closed: kept, nothing to do
    QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Sender:
    address: str
    #: The school the address files for (its official address or a registered user's).
    school_id: int | None = None
    #: The account behind the address, when there is one.
    user_id: int | None = None
    #: A technician, manager or administrator: may act by mail only through a signed id.
    is_staff: bool = False


@dataclass(frozen=True)
class TicketFacts:
    id: int
    school_id: int
    status: str
    resolved_at: datetime | None = None
    #: For a staff sender: whether they may see this ticket (participant).
    staff_may_view: bool = False


@dataclass(frozen=True)
class Decision:
    action: Action
    ticket_id: int | None = None
    reason: str | None = None


def decide(sender: Sender, *, signed: ThreadRef | None, signed_ticket: TicketFacts | None,
           subject_ticket: TicketFacts | None, now: datetime,
           reopen_window: timedelta, meaning: Meaning | None = None) -> Decision:
    """Route one human message (machine mail never gets here).

    ``meaning``: what the school's text says (helpdesk.mail.meaning.read_reply). A
    thank-you for a resolved request confirms it instead of reopening it, and one for a
    closed request files nothing."""
    if signed is not None and signed_ticket is not None:
        if sender.is_staff:
            if sender.user_id is not None and signed.user_id == sender.user_id:
                if signed_ticket.status in OPEN:
                    return Decision(Action.STAFF_REPLY, signed_ticket.id)
                return Decision(Action.QUARANTINE, signed_ticket.id, "ticket_not_open")
            return Decision(Action.QUARANTINE, signed_ticket.id, "unverified_staff")
        if sender.school_id is not None and sender.school_id == signed_ticket.school_id:
            return _school_answer(signed_ticket, now, reopen_window, meaning)
    if subject_ticket is not None:
        if sender.is_staff and subject_ticket.staff_may_view:
            return Decision(Action.QUARANTINE, subject_ticket.id, "unverified_staff")
        if sender.school_id is not None and sender.school_id == subject_ticket.school_id:
            return _school_answer(subject_ticket, now, reopen_window, meaning)
    if sender.is_staff:
        return Decision(Action.QUARANTINE, None, "staff_no_thread")
    if sender.school_id is None:
        return Decision(Action.QUARANTINE, None, "unknown_sender")
    return Decision(Action.NEW_TICKET)


def _school_answer(ticket: TicketFacts, now: datetime, window: timedelta,
                   meaning: Meaning | None) -> Decision:
    if ticket.status in OPEN:
        return Decision(Action.REPLY, ticket.id)
    if meaning == Meaning.THANKS:
        if ticket.status == "resolved":
            return Decision(Action.CONFIRM, ticket.id)
        return Decision(Action.THANKS, ticket.id)
    if ticket.status == "resolved" and ticket.resolved_at and now <= ticket.resolved_at + window:
        return Decision(Action.REOPEN, ticket.id)
    return Decision(Action.FOLLOW_UP, ticket.id)


# --- subjects ----------------------------------------------------------------------------

#: ΑΡ-2026-000123 in Greek or Latin letters (and the mixes autocorrect makes).
_REF = re.compile(r"(?<![\w-])[ΑA][ΡRP]-(\d{4})-(\d{4,9})(?![\w-])", re.IGNORECASE)
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|tr|rif|ref|απ|απαντ|σχετ|πρθ|προωθ|fwd?)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+", re.IGNORECASE)


def subject_refs(subject: str) -> list[tuple[int, int]]:
    """(year, ticket number) of each reference in the subject, in order."""
    return [(int(y), int(n)) for y, n in _REF.findall(subject or "")]


def clean_subject(subject: str) -> str:
    """The subject without reply/forward prefixes (Re:, ΑΠ:, AW:, Re[2]:, Fwd: …)."""
    return _PREFIX.sub("", subject or "").strip()
