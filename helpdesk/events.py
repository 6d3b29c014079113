"""Domain events: what happened, as plain data (no Flask, no database access).

Services record what happened; the message bus (helpdesk.bus) hands each event to the
handlers its table (helpdesk.handlers.HANDLERS) lists, and only they cause side effects
(a mail, a webhook call). Ticket and equipment changes are recorded by their one
writer as a row of their history (TicketEvent by tickets.services._record,
EquipmentHistory by inventory.services.record); the bus turns each new row into its
event here (``from_row``). Facts without a history row (an SLA warning, a census
reminder that is due, mail from a stranger) are recorded with ``bus.handle``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Event:
    """Base of every domain event."""


# --- tickets: one event per TicketEvent row ---------------------------------------------------

@dataclass(frozen=True, eq=False)
class TicketEvent(Event):
    """A row of a ticket's history (``row``: the TicketEvent); see the subclasses."""

    row: Any

    @property
    def ticket_id(self) -> int:
        return self.row.ticket_id

    @property
    def at(self) -> datetime:
        return self.row.at


class TicketCreated(TicketEvent):
    """A request was filed (web, mail or API)."""


class TicketReplied(TicketEvent):
    """A public reply (support's or the school's) was posted."""


class TicketNoted(TicketEvent):
    """An internal note was written."""


class TicketClaimed(TicketEvent):
    """A technician took the request."""


class TicketAssigned(TicketEvent):
    """The request was assigned to someone (or unassigned)."""


class TicketAwaitingSchool(TicketEvent):
    """Support waits for the school's answer."""


class TicketSchoolReplied(TicketEvent):
    """The school answered a request that waited for it."""


class TicketEscalated(TicketEvent):
    """The request went up a level (by a person or by the SLA sweep)."""


class TicketReturned(TicketEvent):
    """The request went back down a level, with instructions."""


class TicketResolved(TicketEvent):
    """The request was resolved."""


class TicketReopened(TicketEvent):
    """The request was reopened (by support or by the school)."""


class TicketClosed(TicketEvent):
    """The request was closed."""


class TicketChanged(TicketEvent):
    """Any other change of a ticket (priority, category, …)."""


#: TicketEvent.kind -> the event it stands for (anything else: TicketChanged).
TICKET_EVENTS: dict[str, type[TicketEvent]] = {
    "created": TicketCreated, "reply": TicketReplied, "note": TicketNoted,
    "claim": TicketClaimed, "assign": TicketAssigned, "await_school": TicketAwaitingSchool,
    "school_reply": TicketSchoolReplied, "escalate": TicketEscalated,
    "return": TicketReturned, "resolve": TicketResolved, "reopen": TicketReopened,
    "close": TicketClosed, "confirm": TicketClosed,
}


# --- equipment ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class EquipmentChanged(Event):
    """A field of a registered device changed (``row``: the EquipmentHistory)."""

    row: Any

    @property
    def at(self) -> datetime:
        return self.row.at


# --- SLA ---------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SlaEvent(Event):
    """The level time of ``ticket`` (a Ticket) runs out soon, or ran out."""

    ticket: Any
    level: int
    #: When the ticket arrived at its level: a stay is warned about once.
    stay_started_at: datetime
    at: datetime
    #: Working minutes left (warnings).
    remaining_minutes: float = 0
    #: unit id -> its managers' addresses, when the producer has read them for a batch.
    managers: Mapping[int, list[str]] | None = field(default=None, compare=False)

    @property
    def ticket_id(self) -> int:
        return self.ticket.id

    @property
    def key(self) -> str:
        """Names this level stay: the notifications' dedupe keys start with it."""
        stay = self.stay_started_at.strftime("%Y%m%dT%H%M%S")
        return f"{self.kind}:{self.ticket.id}:L{self.level}:{stay}"

    kind = "sla"


class SlaWarning(SlaEvent):
    """The level's time is running out."""

    kind = "sla_warning"


class SlaBreached(SlaEvent):
    """The level's time has run out (the ticket escalates, or only this is said)."""

    kind = "sla_breach"


# --- census and mail ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CensusReminderDue(Event):
    """A school has not submitted its registry and a reminder day of the census came."""

    census_id: int
    school_id: int
    days_before: int
    days_left: int
    at: datetime


@dataclass(frozen=True)
class UnknownSenderQuarantined(Event):
    """Mail from an address that is no school's and no user's was quarantined, and the
    sender may be answered (not a list, not automatic)."""

    address: str
    at: datetime


# --- accounts ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PasswordResetRequested(Event):
    """Someone asked for a link to set the password of an active account (``invite``: an
    administrator created the account, and the link is its first password)."""

    user_id: int
    at: datetime
    invite: bool = False


# --- known outages (helpdesk.incidents) --------------------------------------------------------

@dataclass(frozen=True)
class _IncidentFact:
    incident_id: int
    #: The timeline entry that said it (None: the incident was declared without one).
    update_id: int | None
    at: datetime


@dataclass(frozen=True)
class IncidentCreated(_IncidentFact, Event):
    """A known outage was declared."""


@dataclass(frozen=True)
class IncidentUpdated(_IncidentFact, Event):
    """An update was posted to a known outage's timeline (not its resolution)."""


@dataclass(frozen=True)
class IncidentResolved(_IncidentFact, Event):
    """A known outage was resolved (its linked tickets are resolved by the update job)."""


@dataclass(frozen=True)
class IncidentUpdateReachedSchools(Event):
    """One batch of an incident update's linked tickets has it: these schools are told
    (each once per update, whatever the number of its tickets or batches)."""

    update_id: int
    school_ids: tuple[int, ...]
    at: datetime


def from_row(obj) -> Event | None:
    """The event a new history row stands for (TicketEvent, EquipmentHistory), else None."""
    name = type(obj).__name__
    if name == "TicketEvent":
        return TICKET_EVENTS.get(obj.kind, TicketChanged)(obj)
    if name == "EquipmentHistory":
        return EquipmentChanged(obj)
    return None
