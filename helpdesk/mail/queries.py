"""Reads for the mail pipeline and the quarantine pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.mail.ids import verify_message_id
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.mail.threading import Sender, TicketFacts
from helpdesk.org.models import Category, School
from helpdesk.outbox.models import Notification
from helpdesk.permissions import acts_for_school, is_support_staff, sees_staff_text
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


class Lookups:
    """The reads every message repeats (who is this address, how many did it send in the
    last hour, the category mail files in). Without ``prepare`` each is one query; a
    batch of messages prepares them in a few queries for all its senders at once.

    Valid inside one transaction: processing mail creates no users, schools or
    categories."""

    def __init__(self):
        self._users: dict[str, User | None] | None = None
        self._schools: dict[str, School | None] | None = None
        self._recent: dict[str, int] | None = None
        self._recent_since: datetime | None = None
        self._categories: dict[str, Category | None] = {}
        self._held: list = []

    def prepare(self, addresses, *, since: datetime) -> Lookups:
        """Load the accounts and schools of ``addresses`` and how many messages each
        sent from ``since`` on (three queries; a school account's school comes with it)."""
        addresses = sorted({a.lower() for a in addresses if a})
        self._users = dict.fromkeys(addresses)
        self._schools = dict.fromkeys(addresses)
        self._recent, self._recent_since = dict.fromkeys(addresses, 0), since
        if not addresses:
            return self
        for user in db.session.scalars(select(User).options(selectinload(User.school))
                                       .where(User.email.in_(addresses))):
            self._users[user.email] = user
        for school in db.session.scalars(
                select(School).where(func.lower(School.email).in_(addresses),
                                     School.is_active.is_(True)).order_by(School.id.desc())):
            self._schools[school.email.lower()] = school  # the lowest id wins
        self._recent.update(db.session.execute(
            select(InboundMessage.from_addr, func.count(InboundMessage.id))
            .where(InboundMessage.from_addr.in_(addresses), InboundMessage.received_at >= since)
            .group_by(InboundMessage.from_addr)).all())
        return self

    def user(self, address: str) -> User | None:
        if not address:
            return None
        if self._users is not None and address.lower() in self._users:
            return self._users[address.lower()]
        return db.session.scalar(select(User).where(User.email == address.lower()))

    def school(self, address: str) -> School | None:
        if not address:
            return None
        if self._schools is not None and address in self._schools:
            return self._schools[address]
        return db.session.scalar(select(School).where(func.lower(School.email) == address,
                                                      School.is_active.is_(True)))

    def over_rate(self, address: str, since: datetime, exclude_id: int, limit: int) -> bool:
        """Whether ``address`` sent ``limit`` or more other messages from ``since`` on.

        A prepared count starts as early or earlier and includes the message itself, so
        below ``limit`` it gives the same answer without a query; at or above it the
        exact count is asked for. (Messages stored while a batch runs count from the next
        batch on, as they would for a message processed a moment earlier.)"""
        if self._recent is not None and address in self._recent and since >= self._recent_since \
                and self._recent[address] < limit:
            return False
        return recent_from(address, since, exclude_id) >= limit

    def hold(self, obj) -> None:
        """Keep ``obj`` loaded until the batch ends (the session only holds it weakly, and
        the notifications written at the commit read each ticket again)."""
        self._held.append(obj)

    def category(self, code: str) -> Category | None:
        if code not in self._categories:
            self._categories[code] = db.session.scalar(select(Category)
                                                       .where(Category.code == code))
        return self._categories[code]


def identify(address: str, *, school_id: int | None = None, lookups: Lookups | None = None):
    """(Sender, actor) for a From address; ``school_id`` when an administrator vouched."""
    lookups = lookups or Lookups()
    if school_id is not None:
        user = lookups.user(address)
        if user is not None and acts_for_school(user) and user.school_id == school_id:
            return Sender(address, school_id=school_id, user_id=user.id), user
        return Sender(address, school_id=school_id), SchoolAddress(school_id, address)
    user = lookups.user(address)
    if user is not None and user.is_active:
        if acts_for_school(user) and user.school_id is not None and user.school and user.school.is_active:
            return Sender(address, school_id=user.school_id, user_id=user.id), user
        if is_support_staff(user):
            return Sender(address, user_id=user.id, is_staff=True), user
    school = lookups.school(address)
    if school is not None:
        return Sender(address, school_id=school.id), SchoolAddress(school.id, address)
    return Sender(address), None


def ticket_facts(ticket: Ticket | None, actor=None) -> TicketFacts | None:
    if ticket is None:
        return None

    staff_view = sees_staff_text(actor, ticket)  # staff who may see it: a participant
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
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.recipient_email == address, Notification.created_at >= since)) or 0


def notifications_by_message_ids(message_ids: list[str], secret: str) -> list:
    """Our outbox rows named by ``message_ids``: a ticket's only by a signed id that
    verifies (helpdesk.mail.ids), others (no ticket) by their exact id."""
    ids = [m for m in dict.fromkeys(message_ids) if len(m) <= 250][:20]
    if not ids:
        return []
    rows = db.session.scalars(select(Notification).where(Notification.message_id.in_(ids))
                              .order_by(Notification.id))
    return [n for n in rows
            if n.ticket_id is None or verify_message_id(secret, n.message_id) is not None]


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
