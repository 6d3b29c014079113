"""Known outages (issue 15): one problem, many schools.

An incident has a title, a scope (the whole country, regions, directorates, partners'
areas or a list of schools: ``IncidentScope`` rows), a status (helpdesk.incidents.rules)
and a public timeline of updates. Tickets are linked to it (``IncidentLink``; an unlinked
ticket keeps its row with ``unlinked_at``, so the resolution passes it by). Each update
is posted to every linked ticket by an RQ job in batches; ``IncidentUpdate.cursor`` is the
last ticket id done, so a job that dies resumes after it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.org.models import Category


class Incident(db.Model):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: helpdesk.incidents.rules.Status; changed only by services.post_update.
    status: Mapped[str] = mapped_column(String(20), default="investigating")
    #: helpdesk.incidents.rules.ScopeKind: country, regions, directorates, partners, schools.
    scope_kind: Mapped[str] = mapped_column(String(20))
    #: The category of the requests a school files with "we are affected too".
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The ticket the incident was opened from, if any.
    origin_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category] = relationship()
    created_by: Mapped[User | None] = relationship()
    scope: Mapped[list[IncidentScope]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentScope.ref_id")

    __table_args__ = (
        Index("ix_incidents_status_updated", "status", "updated_at"),
        Index("ix_incidents_created_at", "created_at"),
    )


class IncidentScope(db.Model):
    """One place the incident covers: a region, directorate, partner (level-2 unit) or
    school, by id. A country-wide incident has none."""

    __tablename__ = "incident_scopes"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    #: region, directorate, partner or school.
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    ref_id: Mapped[int] = mapped_column(primary_key=True)

    incident: Mapped[Incident] = relationship(back_populates="scope")

    __table_args__ = (Index("ix_incident_scopes_kind_ref", "kind", "ref_id", "incident_id"),)


class IncidentUpdate(db.Model):
    """One entry of the public timeline, and its progress through the linked tickets."""

    __tablename__ = "incident_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    body: Mapped[str] = mapped_column(Text)
    #: The incident's status this update set (or kept).
    status: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The last linked ticket id the update was posted to (tickets go in id order).
    cursor: Mapped[int] = mapped_column(default=0, server_default="0")
    tickets_done: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When every linked ticket had it; None while the job still has work.
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_incident_updates_incident_created", "incident_id", "created_at"),
        #: The sweep reads only the unfinished ones.
        Index("ix_incident_updates_pending", "created_at",
              postgresql_where=text("done_at IS NULL"), sqlite_where=text("done_at IS NULL")),
    )


class IncidentLink(db.Model):
    """A ticket linked to an incident (one incident at a time per ticket)."""

    __tablename__ = "incident_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    #: Denormalised from the ticket: schools affected are counted without the tickets.
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unlinked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("incident_id", "ticket_id", name="uq_incident_links_incident_ticket"),
        Index("ix_incident_links_incident_active", "incident_id", "unlinked_at", "ticket_id"),
        Index("ix_incident_links_ticket", "ticket_id", "unlinked_at"),
        Index("ix_incident_links_school", "school_id", "incident_id"),
    )
