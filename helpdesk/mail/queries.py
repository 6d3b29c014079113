"""Reads for the mail pipeline and the quarantine pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.mail.threading import Sender, TicketFacts
from helpdesk.org.models import School
from helpdesk.tickets.models import Ticket


@dataclass
class SchoolAddress:
    """A school's official address writing without an account of its own: acts for the
    school through the same services, recorded as the address (Message.author_email)."""

    school_id: int
    email: str
    id: None = None
    role: str = "school"
    is_authenticated: bool = True
    is_active: bool = True
    is_admin: bool = False
    is_school: bool = True
    is_staff: bool = False
    unit_ids: frozenset = field(default_factory=frozenset)
    managed_unit_ids: frozenset = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return self.email


def identify(address: str, *, school_id: int | None = None):
    """(Sender, actor) for a From address; ``school_id`` when an administrator vouched."""
    if school_id is not None:
        user = _user(address)
        if user is not None and user.is_school and user.school_id == school_id:
            return Sender(address, school_id=school_id, user_id=user.id), user
        return Sender(address, school_id=school_id), SchoolAddress(school_id, address)
    user = _user(address)
    if user is not None and user.is_active:
        if user.is_school and user.school_id is not None and user.school and user.school.is_active:
            return Sender(address, school_id=user.school_id, user_id=user.id), user
        if user.is_staff or user.is_admin:
            return Sender(address, user_id=user.id, is_staff=True), user
    school = db.session.scalar(select(School).where(func.lower(School.email) == address,
                                                    School.is_active.is_(True))) if address else None
    if school is not None:
        return Sender(address, school_id=school.id), SchoolAddress(school.id, address)
    return Sender(address), None


def _user(address: str) -> User | None:
    if not address:
        return None
    return db.session.scalar(select(User).where(User.email == address.lower()))


def ticket_facts(ticket: Ticket | None, actor=None) -> TicketFacts | None:
    if ticket is None:
        return None
    from helpdesk.permissions import can_view

    is_staff = actor is not None and (actor.is_staff or actor.is_admin)
    staff_view = bool(is_staff and can_view(actor, ticket))
    return TicketFacts(ticket.id, ticket.school_id, ticket.status, ticket.resolved_at, staff_view)


def ticket_by_ref(year: int, number: int) -> Ticket | None:
    """The ticket a subject reference names, if the whole reference matches."""
    ticket = db.session.get(Ticket, number)
    if ticket is None or not ticket.ref or not ticket.ref.endswith(f"-{year}-{number:06d}"):
        return None
    return ticket


def recent_from(address: str, since: datetime, exclude_id: int) -> int:
    return db.session.scalar(select(func.count(InboundMessage.id)).where(
        InboundMessage.from_addr == address, InboundMessage.received_at >= since,
        InboundMessage.id != exclude_id)) or 0


def notifications_to(address: str, since: datetime) -> int:
    try:
        from helpdesk.outbox.models import Notification
    except ImportError:
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.recipient_email == address, Notification.created_at >= since)) or 0


def list_messages(status: str | None = InboundStatus.QUARANTINED, *, limit: int = 100,
                  offset: int = 0) -> list[InboundMessage]:
    stmt = select(InboundMessage).order_by(InboundMessage.received_at.desc(),
                                           InboundMessage.id.desc())
    if status:
        stmt = stmt.where(InboundMessage.status == status)
    return list(db.session.scalars(stmt.limit(limit).offset(offset)))


def count_by_status() -> dict[str, int]:
    rows = db.session.execute(select(InboundMessage.status, func.count(InboundMessage.id))
                              .group_by(InboundMessage.status)).all()
    return {status: n for status, n in rows}


def stale_received(now: datetime, older_than: timedelta, limit: int = 500) -> list[int]:
    """Ids of messages stored but still unprocessed after ``older_than`` (for the sweep)."""
    return list(db.session.scalars(
        select(InboundMessage.id).where(InboundMessage.status == InboundStatus.RECEIVED,
                                        InboundMessage.received_at <= now - older_than)
        .order_by(InboundMessage.id).limit(limit)))
