"""/api/v1/tickets: the same services and permission checks as the web."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import request
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from helpdesk.accounts.models import User
from helpdesk.api.core import actor, endpoint
from helpdesk.api.registry import Param
from helpdesk.api.schemas import (
    AssignIn,
    CategoryIn,
    Empty,
    EventList,
    EventOut,
    MessageCreate,
    MessageList,
    MessageOut,
    MoveIn,
    ReasonIn,
    ResolveIn,
    SchoolRef,
    TicketCreate,
    TicketList,
    TicketOut,
)
from helpdesk.core import bounds
from helpdesk.core.errors import NotFound, ValidationFailed
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.inventory.models import TicketEquipment
from helpdesk.kbuse import services as kb_use
from helpdesk.org.models import Category, ResolutionType, School, SupportUnit
from helpdesk.permissions import Perm, acts_for_school, require, sees_staff_text
from helpdesk.tickets import queries, services
from helpdesk.tickets.models import Message, Ticket, TicketEvent
from helpdesk.tickets.reasons import text_of as reason_text

_STR = {"type": "string"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MICROS = int((datetime(9999, 1, 1, tzinfo=UTC) - EPOCH).total_seconds()) * 1_000_000
REF = Param("ref", {"type": "string", "pattern": r"^(ΑΡ|AR)-\d{4}-\d{1,9}$"},
            "Ticket reference, e.g. ΑΡ-2026-000123 or AR-2026-000123.", where="path")
LIST_PARAMS = [
    Param("status", {"type": "string", "enum": ["new", "open", "waiting", "resolved", "closed"]}),
    Param("level", {"type": "integer", "minimum": 1, "maximum": 3}),
    Param("unit", _STR, "Support unit code of the current unit."),
    Param("school", {"type": "string", "pattern": r"^\d{7}$"}, "School code."),
    Param("category", _STR, "Category code (a parent code includes its children)."),
    Param("priority", {"type": "integer", "minimum": 1, "maximum": 4}),
    Param("assignee", _STR, "Assignee e-mail, or `none`."),
    Param("equipment", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
          "Only tickets about this item."),
    Param("q", {"type": "string", "maxLength": 100}, "Accent-insensitive text search."),
    Param("updated_since", {"type": "string", "format": "date-time"}),
    Param("cursor", {"type": "string", "pattern": r"^\d{1,18}-\d{1,12}$"},
          "From `next_cursor` of the previous page."),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
]


def ticket_out(t: Ticket) -> TicketOut:
    return TicketOut(
        ref=t.ref, subject=t.subject, description=t.description, status=t.status,
        priority=t.priority, level=t.level, category=t.category.code,
        school=SchoolRef(code=t.school.code, name=t.school.name), unit=t.unit.code,
        assignee=t.assignee.email if t.assignee else None, channel=t.channel,
        created_at=t.created_at, updated_at=t.updated_at, first_response_at=t.first_response_at,
        resolved_at=t.resolved_at, closed_at=t.closed_at,
        resolution=t.resolution_type.code if t.resolution_type else None)


def _ticket(ref: str) -> Ticket:
    ticket = queries.get_visible_ticket(actor(), ref)
    if ticket is None:
        raise NotFound()
    return ticket


def _int_arg(name: str, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if bounds.parse_int(value, low=low, high=high) is None:
        raise ValidationFailed(name, "Must be a whole number from %(low)s to %(high)s.", low=low, high=high)
    return int(value)


def _cursor(value: str | None) -> tuple[datetime, int] | None:
    """Keyset position ``<updated_at in µs since the epoch>-<id>`` (validated by its pattern)."""
    if not value:
        return None
    micros, ticket_id = (int(part) for part in value.split("-"))
    return EPOCH + timedelta(microseconds=min(micros, MAX_MICROS)), ticket_id


def _make_cursor(t: Ticket) -> str:
    delta = t.updated_at - EPOCH
    return f"{(delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds}-{t.id}"


def _list_conditions() -> list:
    args, conds = request.args, []
    status = args.get("status")
    if status:
        if status not in ("new", "open", "waiting", "resolved", "closed"):
            raise ValidationFailed("status", "Unknown status.")
        conds.append(Ticket.status == status)
    for name, column, high in (("level", Ticket.level, 3), ("priority", Ticket.priority, 4)):
        value = _int_arg(name, 1, high)
        if value is not None:
            conds.append(column == value)
    if args.get("unit"):
        conds.append(Ticket.unit_id.in_(select(SupportUnit.id).where(SupportUnit.code == args["unit"])))
    if args.get("school"):
        conds.append(Ticket.school_id.in_(select(School.id).where(School.code == args["school"])))
    if args.get("category"):
        cats = select(Category.id).where(or_(Category.code == args["category"],
                                             Category.parent.has(Category.code == args["category"])))
        conds.append(Ticket.category_id.in_(cats))
    item_id = _int_arg("equipment", 1, 2**31 - 1)
    if item_id is not None:
        conds.append(Ticket.id.in_(select(TicketEquipment.ticket_id)
                                   .where(TicketEquipment.item_id == item_id)))
    if args.get("assignee") == "none":
        conds.append(Ticket.assignee_id.is_(None))
    elif args.get("assignee"):
        conds.append(Ticket.assignee_id.in_(select(User.id).where(User.email == args["assignee"].lower())))
    if args.get("updated_since"):
        try:
            since = datetime.fromisoformat(args["updated_since"].replace("z", "Z"))
        except ValueError:
            raise ValidationFailed("updated_since", "Use an ISO 8601 date-time.") from None
        if since.tzinfo is None:
            raise ValidationFailed("updated_since", "Give a time zone, e.g. 2026-01-01T00:00:00Z.")
        conds.append(Ticket.updated_at >= since)
    return conds


@endpoint("GET", "/tickets", "List the tickets you may see", response=TicketList, params=LIST_PARAMS)
def list_tickets():
    limit = _int_arg("limit", 1, 200) or 50
    f = queries.Filters(q=(request.args.get("q") or "")[:100])
    stmt = queries.queue_statement(actor(), "all", f,
                                   prefix=queries.search_by_prefix(actor(), "all", f)
                                   ).where(*_list_conditions())
    after = _cursor(request.args.get("cursor"))
    if after:
        stamp, last_id = after
        stmt = stmt.where(or_(Ticket.updated_at < stamp, and_(Ticket.updated_at == stamp, Ticket.id < last_id)))
    rows = db.session.scalars(
        stmt.options(joinedload(Ticket.school), joinedload(Ticket.category), joinedload(Ticket.unit),
                     joinedload(Ticket.assignee), joinedload(Ticket.resolution_type))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(limit + 1)).unique().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return TicketList(items=[ticket_out(t) for t in rows],
                      next_cursor=_make_cursor(rows[-1]) if more else None)


@endpoint("POST", "/tickets", "File a ticket for a school", response=TicketOut, body=TicketCreate,
          status=201)
def create_ticket(body: TicketCreate):
    school = db.session.scalar(select(School).where(School.code == body.school_code))
    if school is None:
        raise ValidationFailed("school_code", "Unknown school.")
    category = db.session.scalar(select(Category).where(Category.code == body.category))
    if category is None:
        raise ValidationFailed("category", "Unknown category.")
    ticket = services.open_ticket(actor(), school=school, category=category, subject=body.subject,
                                  description=body.description, priority=body.priority,
                                  now=utcnow(), channel=body.channel)
    return ticket_out(ticket)


@endpoint("GET", "/tickets/{ref}", "One ticket", response=TicketOut, params=[REF])
def get_ticket(ref: str):
    return ticket_out(_ticket(ref))


@endpoint("GET", "/tickets/{ref}/messages", "Public replies (and internal notes for staff)",
          response=MessageList, params=[REF])
def list_messages(ref: str):
    ticket = _ticket(ref)
    stmt = select(Message).where(Message.ticket_id == ticket.id).options(joinedload(Message.author))
    if not sees_staff_text(actor(), ticket):
        stmt = stmt.where(Message.is_internal.is_(False))
    rows = db.session.scalars(stmt.order_by(Message.created_at, Message.id)).all()
    return MessageList(items=[_message_out(m) for m in rows])


def _message_out(m: Message) -> MessageOut:
    return MessageOut(id=m.id, author=m.author.email if m.author else m.author_email, body=m.body,
                      is_internal=m.is_internal, channel=m.channel, created_at=m.created_at)


@endpoint("POST", "/tickets/{ref}/messages", "Reply, or add an internal note", response=MessageOut,
          body=MessageCreate, params=[REF], status=201)
def post_message(body: MessageCreate, ref: str):
    ticket, now = _ticket(ref), utcnow()
    if body.internal:
        message = services.add_note(actor(), ticket, body.body, now=now)
    else:
        message = services.reply(actor(), ticket, body.body, now=now, channel="api",
                                 await_school=body.await_school and not acts_for_school(actor()))
    return _message_out(message)


@endpoint("GET", "/tickets/{ref}/events", "The ticket's timeline of changes", response=EventList,
          params=[REF])
def list_events(ref: str):
    ticket = _ticket(ref)
    staff = sees_staff_text(actor(), ticket)
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).options(
        joinedload(TicketEvent.actor))
    if not staff:
        stmt = stmt.where(TicketEvent.is_internal.is_(False))
    rows = db.session.scalars(stmt.order_by(TicketEvent.at, TicketEvent.id)).all()
    return EventList(items=[_event_out(e, shows_reason)
                            for e, shows_reason in queries.readable_events(rows, staff)])


def _event_out(e: TicketEvent, shows_reason: bool) -> EventOut:
    return EventOut(id=e.id, at=e.at, actor=e.actor.email if e.actor else None, kind=e.kind,
                    field=e.field, old_value=e.old_value, new_value=e.new_value,
                    reason=reason_text(e) if shows_reason else None,
                    reason_code=e.reason_code if shows_reason else None,
                    shared_with_school=e.is_shared_with_school)


def _action(ref: str, call) -> TicketOut:
    ticket = _ticket(ref)
    call(ticket, utcnow())
    db.session.flush()
    db.session.expire(ticket, ["unit", "assignee", "resolution_type", "category"])
    return ticket_out(ticket)


@endpoint("POST", "/tickets/{ref}/claim", "Take the ticket", response=TicketOut, body=Empty, params=[REF])
def claim(body: Empty, ref: str):
    return _action(ref, lambda t, now: services.claim(actor(), t, now=now))


@endpoint("POST", "/tickets/{ref}/assign", "Assign within the ticket's unit", response=TicketOut,
          body=AssignIn, params=[REF])
def assign(body: AssignIn, ref: str):
    def call(t, now):
        require(actor(), Perm.ASSIGN, t)
        user = db.session.scalar(select(User).where(User.email == body.assignee_email.lower()))
        if user is None:
            raise ValidationFailed("assignee_email", "Unknown user.")
        services.assign(actor(), t, user, now=now)
    return _action(ref, call)


@endpoint("POST", "/tickets/{ref}/category", "Change the category (not the level)",
          response=TicketOut, body=CategoryIn, params=[REF])
def change_category(body: CategoryIn, ref: str):
    def call(t, now):
        require(actor(), Perm.RECATEGORISE, t)
        category = db.session.scalar(select(Category).where(Category.code == body.category))
        if category is None:
            raise ValidationFailed("category", "Unknown category.")
        services.change_category(actor(), t, category, now=now, reason=body.reason)
    return _action(ref, call)


@endpoint("POST", "/tickets/{ref}/escalate", "Escalate one level, with a reason", response=TicketOut,
          body=MoveIn, params=[REF])
def escalate(body: MoveIn, ref: str):
    return _action(ref, lambda t, now: services.escalate(actor(), t, body.reason, now=now,
                                                         tell_school=body.tell_school))


@endpoint("POST", "/tickets/{ref}/return", "Return one level down, with instructions",
          response=TicketOut, body=MoveIn, params=[REF])
def return_(body: MoveIn, ref: str):
    return _action(ref, lambda t, now: services.return_to_lower(
        actor(), t, body.reason, now=now, tell_school=body.tell_school))


@endpoint("POST", "/tickets/{ref}/resolve", "Resolve with a resolution type and an answer",
          response=TicketOut, body=ResolveIn, params=[REF])
def resolve(body: ResolveIn, ref: str):
    def call(t, now):
        require(actor(), Perm.RESOLVE, t)
        kind = db.session.scalar(select(ResolutionType).where(ResolutionType.code == body.resolution))
        if kind is None:
            raise ValidationFailed("resolution", "Unknown resolution type.")
        kb_use.resolve(actor(), t, kind, body.text, now=now, guide_id=body.guide_id)
    return _action(ref, call)


@endpoint("POST", "/tickets/{ref}/reopen", "Reopen a resolved ticket", response=TicketOut,
          body=ReasonIn, params=[REF])
def reopen(body: ReasonIn, ref: str):
    return _action(ref, lambda t, now: services.reopen(actor(), t, body.reason, now=now))
