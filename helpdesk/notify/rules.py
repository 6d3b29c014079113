"""Which notifications a ticket change calls for (pure: no Flask, no database).

A *change* is the events one actor recorded on one ticket at one moment (one service
call). ``decide`` returns what should be told to whom, as audiences: the school, the
ticket's receiving unit, or one user. Internal events and notes never reach the school;
a move (escalation, return) reaches it as "forwarded to …" without the reason unless the
technician shared it (helpdesk.tickets.visibility). Nobody is told of their own change
(the acknowledgement of a filing excepted: it carries the reference the school needs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from helpdesk.tickets import visibility


class Kind(StrEnum):
    # to the school
    ACK = "ack"                  #: your request was filed as ΑΡ-…
    REPLY = "reply"              #: a public reply from support
    WAITING = "waiting"          #: a reply that waits for the school's answer
    RESOLVED = "resolved"        #: resolved, with the resolution text
    REOPENED = "reopened"        #: reopened by support
    CLOSED = "closed"            #: closed (usually by the system)
    FORWARDED = "forwarded"      #: your request went to another unit (no reason unless shared)
    # to staff
    NEW = "new_ticket"           #: a new request at your unit
    ESCALATED = "escalated"      #: escalated to your unit, with the reason
    RETURNED = "returned"        #: returned to your unit, with instructions
    ASSIGNED = "assigned"        #: assigned to you
    SCHOOL_REPLY = "school_reply"  #: the school answered
    SCHOOL_REOPENED = "school_reopened"  #: the school reopened the request


class Audience(StrEnum):
    SCHOOL = "school"
    UNIT = "unit"
    USER = "user"


#: Kinds that tell the school something; only these may carry a public message.
SCHOOL_KINDS = frozenset({Kind.ACK, Kind.REPLY, Kind.WAITING, Kind.RESOLVED, Kind.REOPENED,
                          Kind.CLOSED, Kind.FORWARDED})
#: Kinds that relay a person's words rather than report a change: not auto-generated.
PERSONAL_KINDS = frozenset({Kind.REPLY, Kind.WAITING, Kind.SCHOOL_REPLY})


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    field: str | None = None
    old: str | None = None
    new: str | None = None
    reason: str | None = None
    is_internal: bool = False
    #: The school reads the reason too (TicketEvent.is_shared_with_school).
    is_shared: bool = False
    #: A machine-written reason (helpdesk.tickets.reasons), rendered per recipient.
    reason_code: str | None = None
    reason_params: tuple = ()


@dataclass(frozen=True)
class Change:
    ticket_id: int
    #: The ticket as it is after the change.
    unit_id: int
    assignee_id: int | None
    #: None for the system (scheduled jobs).
    actor_id: int | None
    actor_is_school: bool
    at: datetime
    events: tuple[Event, ...]
    #: Ids of the messages of this ticket that are public (not internal notes).
    public_message_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Intent:
    kind: Kind
    audience: Audience
    #: The unit for Audience.UNIT, the user for Audience.USER.
    unit_id: int | None = None
    user_id: int | None = None
    #: A public message quoted in the mail (never an internal note).
    message_id: int | None = None
    #: Escalation reason / return instructions: staff audiences, or the school when shared.
    reason: str | None = None
    reason_code: str | None = None
    reason_params: tuple = ()
    #: The reason may be read by the school (the mail checks its reader all the same).
    reason_is_shared: bool = False

    @property
    def is_automatic(self) -> bool:
        """Reports of a change are auto-generated (RFC 3834); relayed replies are not."""
        return self.kind not in PERSONAL_KINDS


def decide(change: Change) -> list[Intent]:
    """The notifications ``change`` calls for, most important first."""
    public = [e for e in change.events if not e.is_internal]
    if any(e.kind == "created" for e in public):
        return _drop_actor(change, [Intent(Kind.ACK, Audience.SCHOOL),
                                    Intent(Kind.NEW, Audience.UNIT, unit_id=change.unit_id)])
    message_id = _public_reply(change, public)
    intents: list[Intent] = []
    if not change.actor_is_school:
        kind = _school_kind(_statuses(public), message_id)
        if kind is not None:
            quoted = message_id if kind != Kind.CLOSED else None
            intents.append(Intent(kind, Audience.SCHOOL, message_id=quoted))
    intents.extend(_moves(public))
    if not change.actor_is_school:
        intents.extend(_forwarded(public))
    intents.extend(_assignments(public))
    if change.actor_is_school:
        intents.extend(_from_school(change, _statuses(public), message_id))
    return _drop_actor(change, intents)


def _statuses(events) -> set[str]:
    """The actions that changed the status (claim, resolve, close, …)."""
    return {e.kind for e in events if e.field == "status"}


def _public_reply(change: Change, events) -> int | None:
    """The id of the public message recorded in this change, if any."""
    for e in events:
        if e.kind == "reply" and e.field == "message" and e.new and e.new.isdigit():
            if int(e.new) in change.public_message_ids:
                return int(e.new)
    return None


def _school_kind(statuses: set[str], message_id: int | None) -> Kind | None:
    if "close" in statuses:
        return Kind.CLOSED
    if "resolve" in statuses:
        return Kind.RESOLVED
    if "reopen" in statuses:
        return Kind.REOPENED
    if "await_school" in statuses:
        return Kind.WAITING
    if message_id is not None:
        return Kind.REPLY
    return None


def _why(events, kinds) -> dict[str, dict]:
    """The reason of each move kind in ``events``, as Intent fields."""
    return {e.kind: dict(reason=e.reason, reason_code=e.reason_code,
                         reason_params=e.reason_params,
                         reason_is_shared=visibility.school_view(
                             e.kind, is_internal=e.is_internal, is_shared=e.is_shared).shows_reason)
            for e in events if (e.reason or e.reason_code) and e.kind in kinds}


def _destinations(events):
    return [e for e in events if visibility.is_move(e.kind, e.field) and e.new and e.new.isdigit()]


def _moves(events) -> list[Intent]:
    """Escalated or returned: the unit that receives the ticket is told, with the why."""
    kinds = {"escalate": Kind.ESCALATED, "return": Kind.RETURNED}
    why = _why(events, kinds)
    return [Intent(kinds[e.kind], Audience.UNIT, unit_id=int(e.new), **why.get(e.kind, {}))
            for e in _destinations(events)]


def _forwarded(events) -> list[Intent]:
    """The school is told where its request went; the why only when shared with it."""
    why = _why(events, visibility.MOVE_KINDS)
    out = []
    for e in _destinations(events):
        fields = why.get(e.kind, {})
        if not fields.get("reason_is_shared"):
            fields = {}
        out.append(Intent(Kind.FORWARDED, Audience.SCHOOL, unit_id=int(e.new), **fields))
    return out


def _assignments(events) -> list[Intent]:
    """Assigned by someone else (a claim is the actor's own)."""
    return [Intent(Kind.ASSIGNED, Audience.USER, user_id=int(e.new))
            for e in events
            if e.kind == "assign" and e.field == "assignee" and e.new and e.new.isdigit()]


def _from_school(change: Change, statuses: set[str], message_id: int | None) -> list[Intent]:
    """The school answered or reopened: its technician is told, else its unit."""
    if "reopen" in statuses:
        kind = Kind.SCHOOL_REOPENED
    elif message_id is not None:
        kind = Kind.SCHOOL_REPLY
    else:
        return []
    if change.assignee_id is not None:
        return [Intent(kind, Audience.USER, user_id=change.assignee_id, message_id=message_id)]
    return [Intent(kind, Audience.UNIT, unit_id=change.unit_id, message_id=message_id)]


def _drop_actor(change: Change, intents: list[Intent]) -> list[Intent]:
    """Nobody is told of their own change."""
    return [i for i in intents
            if not (i.audience == Audience.USER and i.user_id == change.actor_id)]


def group_events(events) -> list[tuple[tuple[int, int | None, datetime], list]]:
    """Group objects with ticket_id/actor_id/at/id into changes, in the order they happened
    (a school acting by its address, ``actor_email``, is an actor of its own)."""
    groups: dict[tuple, list] = {}
    for e in sorted(events, key=lambda e: (e.ticket_id, e.id or 0)):
        key = (e.ticket_id, e.actor_id, getattr(e, "actor_email", None), e.at)
        groups.setdefault(key, []).append(e)
    return [((t, a, at), group) for (t, a, _, at), group in groups.items()]
