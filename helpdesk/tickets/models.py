"""Tickets, their stays at units, messages, attachments and events."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    exists,
    false,
    literal_column,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.org.models import Category, ResolutionType, School, SupportUnit

_OPEN_SQL = "status IN ('new', 'open', 'waiting')"


class Ticket(db.Model):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Shown everywhere, e.g. ΑΡ-2026-000123; set right after insert.
    ref: Mapped[str | None] = mapped_column(String(30), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    #: helpdesk.tickets.states.Priority
    priority: Mapped[int] = mapped_column(default=2)
    #: helpdesk.tickets.states.Status; changed only by services.set_status.
    status: Mapped[str] = mapped_column(String(12))
    level: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("support_units.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: web, email or api.
    channel: Mapped[str] = mapped_column(String(10), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When its personal data was removed (helpdesk retention, RETENTION_YEARS after closing).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_type_id: Mapped[int | None] = mapped_column(ForeignKey("resolution_types.id"))
    # The school's answer to the resolution (helpdesk.tickets.services.confirm).
    #: When the school said the resolution worked (the request closed then).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: How it said so: web (its page), link (the mail's signed link) or email (a reply).
    confirmed_via: Mapped[str | None] = mapped_column(String(10))
    #: Its optional rating, 1–5 (states.RATINGS), and comment.
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(Text)
    #: A request mailed in reply to a ticket closed too long ago follows it up here.
    related_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    #: Folded ref, subject, description and school for accent-insensitive search.
    search_text: Mapped[str] = mapped_column(Text, default="")

    # SLA, recomputed from the event history by helpdesk.sla (stored so queues sort by them).
    #: When the first response, the resolution and the current level's time fall due.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    level_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ok, warning, breached or paused (waiting on the school).
    sla_state: Mapped[str] = mapped_column(String(10), default="ok", server_default="ok")
    #: Working minutes to first response / resolution, once reached.
    first_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    first_response_breached: Mapped[bool | None]
    resolution_breached: Mapped[bool | None]

    school: Mapped[School] = relationship()
    category: Mapped[Category] = relationship()
    unit: Mapped[SupportUnit] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    related_ticket: Mapped[Ticket | None] = relationship(remote_side=[id],
                                                         foreign_keys=[related_ticket_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    resolution_type: Mapped[ResolutionType | None] = relationship()

    __table_args__ = (
        Index("ix_tickets_unit_status_updated", "unit_id", "status", "updated_at"),
        Index("ix_tickets_assignee_status_updated", "assignee_id", "status", "updated_at"),
        Index("ix_tickets_school_created", "school_id", "created_at"),
        Index("ix_tickets_school_updated", "school_id", "updated_at", "id"),
        Index("ix_tickets_status_resolved", "status", "resolved_at"),
        Index("ix_tickets_status_closed", "status", "closed_at"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_level_status", "level", "status"),
        Index("ix_tickets_status_level_due", "status", "level_due_at"),
        Index("ix_tickets_unit_status_level_due", "unit_id", "status", "level_due_at"),
        Index("ix_tickets_created_at", "created_at"),
        #: A text search's latest matches, newest first (helpdesk.tickets.queries).
        Index("ix_tickets_updated", "updated_at", "id"),
        #: Queue counts read only this small index of the open tickets (index-only scan).
        Index("ix_tickets_open_counts", "unit_id", "assignee_id", "status", "sla_state", "id",
              postgresql_where=text(_OPEN_SQL), sqlite_where=text(_OPEN_SQL)),
    )


#: PostgreSQL only (migration perf03stayunits): the ids of the units the ticket ever stayed
#: at, its current unit included, written by a trigger on every new stay and GIN-indexed.
#: Not mapped: SQLite has no arrays (``stayed_at_units`` reads the stays there).
STAY_UNITS = literal_column("tickets.stay_units", ARRAY(Integer))


def stay_units_overlap(unit_ids):
    """PostgreSQL: the condition ``tickets.stay_units && ARRAY[unit_ids]``, which a GIN index
    answers together with the other conditions of a page (a text search's words); None on
    SQLite, which has no such column."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    units = sorted(int(u) for u in unit_ids)
    return STAY_UNITS.op("&&")(cast(bindparam("stay_units", units, unique=True,
                                               type_=ARRAY(Integer)), ARRAY(Integer)))


def stayed_at_units(unit_ids):
    """The condition on Ticket: it is, or once was, at one of ``unit_ids`` (every ticket at
    a unit has a stay there): ``stay_units_overlap`` on PostgreSQL, the stays on SQLite."""
    overlap = stay_units_overlap(unit_ids)
    if overlap is not None:
        return overlap
    units = sorted(int(u) for u in unit_ids)
    return or_(Ticket.unit_id.in_(units), exists().where(
        TicketStay.ticket_id == Ticket.id, TicketStay.unit_id.in_(units)))


class TicketStay(db.Model):
    """A ticket's time at one unit: what lets a unit see tickets that were there."""

    __tablename__ = "ticket_stays"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("support_units.id"))
    level: Mapped[int]
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: escalated, returned or None while the ticket is still there.
    left_how: Mapped[str | None] = mapped_column(String(12))

    __table_args__ = (
        Index("ix_ticket_stays_unit_ticket", "unit_id", "ticket_id", "left_how"),
        #: The "escalated" queue and its count: the stays a unit ended by escalating, read
        #: without the unit's other stays (at 1M tickets a tenth of them).
        Index("ix_ticket_stays_escalated", "unit_id", "ticket_id",
              postgresql_where=text("left_how = 'escalated'"),
              sqlite_where=text("left_how = 'escalated'")),
        #: The tier-health report reads a period's stays from this index alone.
        Index("ix_ticket_stays_arrived", "arrived_at", "ticket_id", "level", "left_how"),
    )


class Message(db.Model):
    """A public reply, or an internal note that the school never sees."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Set when the author is only an e-mail address.
    author_email: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(10), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")

    __table_args__ = (Index("ix_messages_ticket_created", "ticket_id", "created_at"),)


class Attachment(db.Model):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    #: The sanitised name the uploader gave; only ever shown or sent as a download name.
    filename: Mapped[str] = mapped_column(String(200))
    #: Generated name under the attachment store; never derived from user input.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    is_internal: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message | None] = relationship(back_populates="attachments")


class TicketEvent(db.Model):
    """One recorded change: who, when, what, from, to, why."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    #: None for the system (scheduled jobs).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: A school acting by its official address without an account (e-mail): that address.
    actor_email: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: created, claim, assign, reply, note, escalate, return, resolve, reopen, close,
    #: priority, category, await_school, school_reply (the kinds helpdesk.tickets.visibility
    #: knows)
    kind: Mapped[str] = mapped_column(String(20))
    field: Mapped[str | None] = mapped_column(String(30))
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    #: Internal events (notes) are shown to technicians only.
    is_internal: Mapped[bool] = mapped_column(default=False)
    #: The school reads this event's reason too (helpdesk.tickets.visibility): replies and
    #: resolutions are; escalation reasons, return instructions and notes only when the
    #: technician chose to tell the school.
    is_shared_with_school: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: A machine-written reason as a code (helpdesk.tickets.reasons), rendered in the
    #: reader's language; ``reason`` then keeps the text as it was first written.
    reason_code: Mapped[str | None] = mapped_column(String(60))
    reason_params: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_ticket_events_ticket_at", "ticket_id", "at"),
        Index("ix_ticket_events_kind_at", "kind", "at"),
    )
