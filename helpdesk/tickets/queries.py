"""Ticket reads: queues, filters, search, the ticket page's timeline. Every read is
scoped by helpdesk.permissions and issues a constant number of queries."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from sqlalchemy import Select, and_, case, exists, func, or_, select, union
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.accounts.models import UnitMembership, User
from helpdesk.core.text import like_pattern
from helpdesk.extensions import db
from helpdesk.org.models import Category, Directorate, ResolutionType, School, SupportUnit
from helpdesk.permissions import scope_tickets
from helpdesk.tickets.models import Attachment, Message, Ticket, TicketEvent, TicketStay
from helpdesk.tickets.states import OPEN_STATUSES, Status

STAFF_QUEUES = ("unassigned", "mine", "waiting", "breaching", "escalated", "open", "all")
SCHOOL_QUEUES = ("open", "all")
SORTS = {
    "updated": Ticket.updated_at,
    "created": Ticket.created_at,
    "priority": Ticket.priority,
    "ref": Ticket.id,
    "due": Ticket.level_due_at,
}
_REF = re.compile(r"^\s*(?:ΑΡ|AR|αρ|ar)-(\d{4})-(\d{1,9})\s*$", re.IGNORECASE)


@dataclass
class Filters:
    status: str = ""
    priority: str = ""
    category: str = ""
    school: str = ""
    directorate: str = ""
    level: str = ""
    assignee: str = ""
    q: str = ""
    sort: str = "updated"
    order: str = "desc"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        values = {k: (args.get(k) or "").strip()[:100] for k in cls.__dataclass_fields__
                  if k != "page"}
        try:
            page = max(1, min(int(args.get("page", 1)), 100000))
        except ValueError:
            page = 1
        return cls(**values, page=page)


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, math.ceil(self.total / self.per_page))


def queues_for(actor: User) -> tuple[str, ...]:
    if actor.is_school:
        return SCHOOL_QUEUES
    return STAFF_QUEUES


def _queue_condition(actor: User, queue: str):
    units = list(actor.unit_ids)
    open_ = Ticket.status.in_([s.value for s in OPEN_STATUSES])
    if actor.is_school or actor.is_admin:
        return open_ if queue == "open" else None
    if queue == "unassigned":
        return and_(Ticket.unit_id.in_(units), Ticket.assignee_id.is_(None),
                    Ticket.status.in_([Status.NEW.value, Status.OPEN.value]))
    if queue == "mine":
        return and_(Ticket.assignee_id == actor.id, open_)
    if queue == "waiting":
        return and_(Ticket.unit_id.in_(units), Ticket.status == Status.WAITING.value)
    if queue == "breaching":
        return and_(Ticket.unit_id.in_(units), open_,
                    Ticket.sla_state.in_(("warning", "breached")))
    if queue == "escalated":
        return and_(open_, exists().where(
            TicketStay.ticket_id == Ticket.id, TicketStay.unit_id.in_(units),
            TicketStay.left_how == "escalated"))
    if queue == "open":
        return and_(Ticket.unit_id.in_(units), open_)
    return None


def _filter_conditions(f: Filters) -> list:
    conds = []
    if f.status in {s.value for s in Status}:
        conds.append(Ticket.status == f.status)
    if f.priority.isdigit():
        conds.append(Ticket.priority == int(f.priority))
    if f.level in ("1", "2", "3"):
        conds.append(Ticket.level == int(f.level))
    if f.category.isdigit():
        cid = int(f.category)
        conds.append(Ticket.category_id.in_(
            select(Category.id).where(or_(Category.id == cid, Category.parent_id == cid))))
    if f.school:
        conds.append(Ticket.school_id.in_(select(School.id).where(School.code == f.school)))
    if f.directorate:
        conds.append(Ticket.school_id.in_(
            select(School.id).join(Directorate).where(Directorate.code == f.directorate)))
    if f.assignee == "none":
        conds.append(Ticket.assignee_id.is_(None))
    elif f.assignee.isdigit():
        conds.append(Ticket.assignee_id == int(f.assignee))
    if f.q:
        ref = _REF.match(f.q)
        if ref:
            conds.append(Ticket.id == int(ref.group(2)))
        else:
            conds.append(Ticket.search_text.like(like_pattern(f.q), escape="\\"))
    return conds


def queue_statement(actor: User, queue: str, f: Filters) -> Select:
    """The scoped, filtered select of Ticket for a queue (no order, no limit)."""
    stmt = scope_tickets(actor, select(Ticket))
    cond = _queue_condition(actor, queue)
    if cond is not None:
        stmt = stmt.where(cond)
    return stmt.where(*_filter_conditions(f))


def list_queue(actor: User, queue: str, f: Filters, per_page: int) -> Page:
    """One page of a queue: two queries (count and rows with their relations)."""
    stmt = queue_statement(actor, queue, f)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    column = SORTS.get(f.sort, Ticket.updated_at)
    order = column.asc() if f.order == "asc" else column.desc()
    rows = db.session.scalars(
        stmt.options(joinedload(Ticket.school), joinedload(Ticket.category),
                     joinedload(Ticket.unit), joinedload(Ticket.assignee))
        .order_by(order, Ticket.id.desc())
        .limit(per_page).offset((f.page - 1) * per_page)
    ).unique().all()
    return Page(items=list(rows), total=total or 0, page=f.page, per_page=per_page)


def queue_counts(actor: User) -> dict[str, int]:
    """How many tickets each of the actor's queues holds, in one query."""
    names = [q for q in queues_for(actor) if q != "all"]
    columns = []
    for name in names:
        cond = _queue_condition(actor, name)
        columns.append(func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name))
    stmt = select(*columns).select_from(Ticket).where(
        Ticket.status.in_([s.value for s in OPEN_STATUSES]))
    if actor.is_staff and not actor.is_admin:
        # Every staff queue is a subset of: at my units, mine, or escalated by my units,
        # all of which I may see. Counting only those skips the rest of the country.
        # A UNION of three index scans, not an OR that would scan every open ticket.
        units, open_ = list(actor.unit_ids), [s.value for s in OPEN_STATUSES]
        mine = union(
            select(Ticket.id).where(Ticket.unit_id.in_(units), Ticket.status.in_(open_)),
            select(Ticket.id).where(Ticket.assignee_id == actor.id, Ticket.status.in_(open_)),
            select(TicketStay.ticket_id).where(TicketStay.unit_id.in_(units),
                                               TicketStay.left_how == "escalated"))
        stmt = stmt.where(Ticket.id.in_(select(mine.subquery().c[0])))
    else:
        stmt = scope_tickets(actor, stmt)
    row = db.session.execute(stmt).one()
    return dict(zip(names, (int(v or 0) for v in row), strict=True))


def parse_ref(value: str) -> tuple[int, int] | None:
    """(year, ticket id) of a reference (ΑΡ-2026-000123 or AR-2026-123), or None."""
    match = _REF.match(value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def get_visible_ticket(actor: User, ref: str) -> Ticket | None:
    """The ticket with this reference if the actor may see it."""
    parsed = parse_ref(ref)
    if parsed is None:
        return None
    year, ticket_id = parsed
    stmt = scope_tickets(actor, select(Ticket).where(Ticket.id == ticket_id)).options(
        joinedload(Ticket.school).joinedload(School.directorate),
        joinedload(Ticket.category), joinedload(Ticket.unit), joinedload(Ticket.assignee),
        joinedload(Ticket.resolution_type))
    ticket = db.session.scalar(stmt)
    if ticket is None or parse_ref(ticket.ref) != (year, ticket_id):
        return None
    return ticket


@dataclass
class Entry:
    """One timeline entry: a message, or the events one actor made at one moment."""

    at: datetime
    kind: str
    actor: User | None
    message: Message | None = None
    events: list = field(default_factory=list)
    is_internal: bool = False


def timeline(actor: User, ticket: Ticket) -> tuple[list[Entry], list[Attachment]]:
    """Messages, notes and events merged in time order; internal ones only for staff."""
    show_internal = not actor.is_school
    msgs = select(Message).where(Message.ticket_id == ticket.id).options(
        joinedload(Message.author), selectinload(Message.attachments))
    evts = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                     TicketEvent.kind.not_in(["reply", "note"])).options(
        joinedload(TicketEvent.actor))
    if not show_internal:
        msgs = msgs.where(Message.is_internal.is_(False))
        evts = evts.where(TicketEvent.is_internal.is_(False))
    messages = db.session.scalars(msgs.order_by(Message.created_at, Message.id)).unique().all()
    events = db.session.scalars(evts.order_by(TicketEvent.at, TicketEvent.id)).all()
    entries = [Entry(m.created_at, "note" if m.is_internal else "message", m.author, message=m,
                     is_internal=m.is_internal) for m in messages]
    for (at, actor_id, kind), group in groupby(events, key=lambda e: (e.at, e.actor_id, e.kind)):
        group = list(group)
        entries.append(Entry(at, kind, group[0].actor, events=group))
    entries.sort(key=lambda e: (e.at, 0 if e.events else 1))
    loose = select(Attachment).where(Attachment.ticket_id == ticket.id,
                                     Attachment.message_id.is_(None))
    if not show_internal:
        loose = loose.where(Attachment.is_internal.is_(False))
    return entries, list(db.session.scalars(loose.order_by(Attachment.id)))


def names_for_events(entries: list[Entry]) -> dict[str, dict[int, str]]:
    """Display names of the units and users that events refer to, in two queries."""
    unit_ids, user_ids = set(), set()
    for entry in entries:
        for e in entry.events:
            target = unit_ids if e.field == "unit" else user_ids if e.field == "assignee" else None
            if target is not None:
                target.update(int(v) for v in (e.old_value, e.new_value) if v and v.isdigit())
    units = dict(db.session.execute(select(SupportUnit.id, SupportUnit.name_el)
                                    .where(SupportUnit.id.in_(unit_ids))).all())
    users = dict(db.session.execute(select(User.id, User.name)
                                    .where(User.id.in_(user_ids))).all())
    from helpdesk.core.display import localized

    resolutions = {r.code: localized(r) for r in db.session.scalars(select(ResolutionType))}
    return {"unit": units, "assignee": users, "resolution_type": resolutions}


def unit_members(unit_id: int) -> list[User]:
    """Active members of a unit, for the assign form."""
    return list(db.session.scalars(
        select(User).join(UnitMembership).where(UnitMembership.unit_id == unit_id,
                                                User.is_active_account.is_(True))
        .order_by(User.name)))


def visible_attachment(actor: User, attachment_id: int) -> Attachment | None:
    """The attachment if the actor may see its ticket (and, for schools, it is public)."""
    stmt = scope_tickets(actor, select(Attachment).join(Ticket, Ticket.id == Attachment.ticket_id)
                         .where(Attachment.id == attachment_id))
    if actor.is_school:
        stmt = stmt.where(Attachment.is_internal.is_(False))
    return db.session.scalar(stmt)
