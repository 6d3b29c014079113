"""Ticket reads: queues, filters, search, the ticket page's timeline. Every read is
scoped by helpdesk.permissions and issues a constant number of queries."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from types import SimpleNamespace

from flask_babel import get_locale
from sqlalchemy import Select, String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk.accounts.models import UnitMembership, User
from helpdesk.core import bounds
from helpdesk.core.display import localized
from helpdesk.core.refcache import TableCache
from helpdesk.core.text import by_label, sort_key
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.org.models import Category, Directorate, ResolutionType, School, SupportUnit
from helpdesk.permissions import (
    acts_for_school,
    own_units_in_scope,
    scope_tickets,
    sees_staff_text,
    works_at_units,
)
from helpdesk.tickets import search, visibility
from helpdesk.tickets.models import (
    Attachment,
    Message,
    Ticket,
    TicketEvent,
    TicketStay,
    stay_units_overlap,
)
from helpdesk.tickets.reasons import text_of as reason_text
from helpdesk.tickets.states import OPEN_STATUS_VALUES, Status

STAFF_QUEUES = ("unassigned", "mine", "waiting", "breaching", "escalated", "open", "all")
SCHOOL_QUEUES = ("open", "all")
SORTS = {
    "updated": Ticket.updated_at,
    "created": Ticket.created_at,
    "priority": Ticket.priority,
    "ref": Ticket.id,
    "due": Ticket.level_due_at,
}
#: The "about to breach" queue: level deadlines ahead and at most this far away (or
#: already in the sweep's warning state); a deadline that has passed is not "about to".
NEAR_DEADLINE_WINDOW = timedelta(hours=24)
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


#: A search counts its matches up to this many (shown as "1000+"), not the whole country's.
SEARCH_COUNT_LIMIT = 1000
#: A text search with no sort chosen ranks the latest this many matches, best first (the
#: pages a search shows; "sort by last change" pages through every match).
RANK_WINDOW = SEARCH_COUNT_LIMIT


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    #: True when ``total`` is a lower bound: the count stopped there (a search).
    more: bool = False
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, math.ceil(self.total / self.per_page))


def queues_for(actor: User) -> tuple[str, ...]:
    if acts_for_school(actor):
        return SCHOOL_QUEUES
    return STAFF_QUEUES


#: The staff queues whose condition is ``Ticket.unit_id IN actor.unit_ids`` and more.
AT_OWN_UNITS = frozenset({"unassigned", "waiting", "breaching", "open"})


def _queue_condition(actor: User, queue: str, now: datetime):
    units = list(actor.unit_ids)
    open_ = Ticket.status.in_(OPEN_STATUS_VALUES)
    if not works_at_units(actor):  # schools and administrators: one open queue
        return open_ if queue == "open" else None
    if queue == "unassigned":
        return and_(Ticket.unit_id.in_(units), Ticket.assignee_id.is_(None),
                    Ticket.status.in_([Status.NEW.value, Status.OPEN.value]))
    if queue == "mine":
        return and_(Ticket.assignee_id == actor.id, open_)
    if queue == "waiting":
        return and_(Ticket.unit_id.in_(units), Ticket.status == Status.WAITING.value)
    if queue == "breaching":
        return and_(Ticket.unit_id.in_(units), open_, Ticket.sla_state != "paused",
                    Ticket.level_due_at > now,
                    or_(Ticket.level_due_at <= now + NEAR_DEADLINE_WINDOW,
                        Ticket.sla_state == "warning"))
    if queue == "escalated":
        return and_(open_, _escalated_by(units))
    if queue == "open":
        return and_(Ticket.unit_id.in_(units), open_)
    return None


def _escalated_by(units: list[int]):
    """Tickets one of ``units`` escalated (a stay there ended by escalating). On PostgreSQL
    also ``stay_units && units``, which that implies: the partial index of the open
    tickets' stay units finds the unit's few thousand first, instead of the country's open
    tickets being joined with the unit's escalated stays (migration perf04openunits)."""
    escalated = Ticket.id.in_(select(TicketStay.ticket_id).where(
        TicketStay.unit_id.in_(units), TicketStay.left_how == "escalated"))
    overlap = stay_units_overlap(units)
    return escalated if overlap is None else and_(overlap, escalated)


def _filter_conditions(f: Filters, *, prefix: bool = False) -> list:
    conds = []
    if f.status in {s.value for s in Status}:
        conds.append(Ticket.status == f.status)
    if bounds.is_id(f.priority):
        conds.append(Ticket.priority == int(f.priority))
    if f.level in ("1", "2", "3"):
        conds.append(Ticket.level == int(f.level))
    if bounds.is_id(f.category):
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
    elif bounds.is_id(f.assignee):
        conds.append(Ticket.assignee_id == int(f.assignee))
    if f.q:
        ref = _REF.match(f.q)
        if ref:
            conds.append(Ticket.id == int(ref.group(2)))
        else:
            found = search.match(db.session, f.q, prefix=prefix)
            if found is not None:
                conds.append(found.condition)
    return conds


def queue_statement(actor: User, queue: str, f: Filters, now: datetime | None = None, *,
                    prefix: bool = False) -> Select:
    """The scoped, filtered select of Ticket for a queue (no order, no limit); a text
    search matches whole stems, or prefixes when ``prefix`` (see ``search_by_prefix``)."""
    # A unit queue keeps to the tickets at the actor's units, which are in their scope.
    at_units = queue in AT_OWN_UNITS and own_units_in_scope(actor)
    stmt = select(Ticket) if at_units else scope_tickets(actor, select(Ticket))
    cond = _queue_condition(actor, queue, now or utcnow())
    if cond is not None:
        stmt = stmt.where(cond)
    return stmt.where(*_filter_conditions(f, prefix=prefix))


def _is_text_search(f: Filters) -> bool:
    return bool(f.q) and not _REF.match(f.q) and search.prefix_may_find_more(db.session, f.q)


def search_by_prefix(actor: User, queue: str, f: Filters) -> bool:
    """Whether the queue's text search should match its words as prefixes: when no ticket
    in the queue holds them whole (a word typed in part, «εκτυπ»). One cheap statement
    (list_queue learns the same from its count)."""
    if not _is_text_search(f):
        return False
    stmt = queue_statement(actor, queue, f).with_only_columns(Ticket.id).limit(1)
    return db.session.scalar(stmt) is None


def _count(stmt: Select, limit: int | None = None) -> int:
    """Rows of a ticket select, counted up to ``limit`` when one is given."""
    ids = stmt.with_only_columns(Ticket.id).order_by(None)
    if limit is not None:
        ids = ids.limit(limit)
    return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def list_queue(actor: User, queue: str, f: Filters, per_page: int,
               total: int | None = None, now: datetime | None = None) -> Page:
    """One page of a queue: the count (unless ``total`` is known) and the rows with their
    relations. A search counts at most a page beyond SEARCH_COUNT_LIMIT matches."""
    stmt = queue_statement(actor, queue, f, now)
    more = prefix = False
    if total is None and f.q:
        bound = max(SEARCH_COUNT_LIMIT, f.page * per_page)
        total = _count(stmt, bound + 1)
        if total == 0 and _is_text_search(f):  # nothing holds the words whole: typed in part?
            prefix = True
            stmt = queue_statement(actor, queue, f, now, prefix=True)
            total = _count(stmt, bound + 1)
        more = total > bound
        total = min(total, bound)
    elif total is None:
        total = _count(stmt)
    column = SORTS.get(f.sort, Ticket.updated_at)
    order = column.asc() if f.order == "asc" else column.desc()
    offset = (f.page - 1) * per_page
    found = _ranked_search(f, prefix)
    if found is None or works_at_units(actor):
        # The page's ids first, then their rows and relations: joined before the LIMIT, the
        # planner hashes every school and user in the country to decorate rows it then drops.
        # Unit staff's searches rank every match in their scope (its OR of the unit and the
        # unit's past stays cannot be walked newest first through one index).
        orders = (order, Ticket.id.desc()) if found is None else (
            found.rank, order, Ticket.id.desc())
        page_ids = (stmt.with_only_columns(Ticket.id).order_by(*orders)
                    .limit(per_page).offset(offset).subquery())
    else:
        # A text search with no sort chosen, by an administrator or a school: the best
        # matches first, among the latest RANK_WINDOW matches (a common word matches a
        # tenth of a million tickets; ranking them all read the whole table). Those are
        # found newest first through ix_tickets_updated (a school's through
        # ix_tickets_school_updated), a rare word's through the full-text index.
        window = (stmt.with_only_columns(Ticket.id, Ticket.updated_at,
                                         found.score.label("score"))
                  .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
                  .limit(RANK_WINDOW).subquery())
        best = window.c.score.desc() if found.higher_is_better else window.c.score.asc()
        page_ids = (select(window.c.id, window.c.score, window.c.updated_at)
                    .order_by(best, window.c.updated_at.desc(), window.c.id.desc())
                    .limit(per_page).offset(offset).subquery())
        best = page_ids.c.score.desc() if found.higher_is_better else page_ids.c.score.asc()
        orders = (best, page_ids.c.updated_at.desc(), page_ids.c.id.desc())
    rows = db.session.execute(_ROW.join(page_ids, page_ids.c.id == Ticket.id)
                              .order_by(*orders)).all()
    return Page(items=rows, total=total, page=f.page, per_page=per_page, more=more)


#: A queue row: the columns the list shows, with its school's, assignee's, category's and
#: unit's names (plain rows, not ORM entities: building 25 tickets and their four relations
#: as objects took a third of the page's Python time).
_ROW = (select(Ticket.id, Ticket.ref, Ticket.subject, Ticket.status, Ticket.priority,
               Ticket.level, Ticket.unit_id, Ticket.category_id, Ticket.level_due_at,
               Ticket.sla_state, Ticket.updated_at, School.name.label("school_name"),
               User.name.label("assignee_name"),
               Category.name_el.label("category_name_el"),
               Category.name_en.label("category_name_en"),
               SupportUnit.name_el.label("unit_name_el"),
               SupportUnit.name_en.label("unit_name_en"))
        .join(School, School.id == Ticket.school_id)
        .join(Category, Category.id == Ticket.category_id)
        .join(SupportUnit, SupportUnit.id == Ticket.unit_id)
        .outerjoin(User, User.id == Ticket.assignee_id))


def row_names(rows, prefix: str) -> dict[int, str]:
    """``{id: name}`` of a queue page's categories (``prefix`` "category") or units
    ("unit"), in the reader's language."""
    english = str(get_locale()) == "en"
    out = {}
    for row in rows:
        key = getattr(row, f"{prefix}_id")
        if key not in out:
            el, en = getattr(row, f"{prefix}_name_el"), getattr(row, f"{prefix}_name_en")
            out[key] = (en if english and en else el) or ""
    return out


def _ranked_search(f: Filters, prefix: bool) -> search.Match | None:
    """The match to rank a text search by (no sort chosen, not a reference), or None."""
    if not f.q or f.sort or _REF.match(f.q):
        return None
    found = search.match(db.session, f.q, prefix=prefix)
    return found if found is not None and found.score is not None else None


def known_total(actor: User, queue: str, f: Filters, counts: dict[str, int]) -> int | None:
    """The queue's size from ``queue_counts`` when that is exactly list_queue's count:
    no filter, and a queue whose condition already implies the actor's scope."""
    if any(getattr(f, k) for k in ("status", "priority", "category", "school", "directorate",
                                   "level", "assignee", "q")):
        return None
    if not works_at_units(actor):
        return counts.get(queue) if queue == "open" else None
    if queue in ("unassigned", "waiting", "breaching", "escalated", "open"):
        return counts.get(queue)
    return None


def queue_counts(actor: User, now: datetime | None = None) -> dict[str, int]:
    """How many tickets each of the actor's queues holds, in one query."""
    now = now or utcnow()
    names = [q for q in queues_for(actor) if q != "all"]
    open_ = Ticket.status.in_(OPEN_STATUS_VALUES)
    if works_at_units(actor):
        # Each staff queue lies in one small set, counted by its own index scan: my units'
        # open tickets (unassigned, waiting, breaching, open), those assigned to me, and
        # those my units escalated. Every one of them is in my scope.
        units = list(actor.unit_ids)
        at_units = ("unassigned", "waiting", "breaching", "open")
        sums = select(*(func.coalesce(func.sum(case((_queue_condition(actor, n, now), 1), else_=0)), 0)
                        .label(n) for n in at_units)
                      ).where(Ticket.unit_id.in_(units), open_).subquery()
        single = {
            "mine": select(func.count()).where(_queue_condition(actor, "mine", now)),
            "escalated": select(func.count()).select_from(Ticket).where(
                open_, _escalated_by(units)),
        }
        stmt = select(*(sums.c[n] if n in at_units else single[n].scalar_subquery()
                        for n in names))
    else:
        columns = [func.coalesce(func.sum(case((_queue_condition(actor, n, now), 1), else_=0)), 0)
                   .label(n) for n in names]
        stmt = scope_tickets(actor, select(*columns).select_from(Ticket).where(open_))
    row = db.session.execute(stmt).one()
    return dict(zip(names, (int(v or 0) for v in row), strict=True))


def _filter_rows(session) -> tuple[tuple, tuple]:
    """The active categories (id, parent id, names) by code; directorates by short name."""
    cats = session.execute(select(Category.id, Category.parent_id, Category.name_el,
                                  Category.name_en).where(Category.is_active.is_(True))
                           .order_by(Category.code)).all()
    directorates = session.execute(select(Directorate.code, Directorate.short_name_el)
                                   .order_by(Directorate.short_name_el)).all()
    return tuple(map(tuple, cats)), tuple(map(tuple, directorates))


#: Reference data behind the queue filters, kept per process and re-read when it changes.
_FILTER_ROWS = TableCache(("categories", "directorates"), _filter_rows)


#: locale -> (the rows the labels were built from, the sorted category choices, the
#: directorates sorted the Greek way).
_CHOICES: dict[str, tuple[tuple, list[tuple[int, str]], list[tuple[str, str]]]] = {}


def filter_choices(with_directorates: bool) -> tuple[list[tuple[int, str]], list[tuple[str, str]]]:
    """The queue filters' choices: the active categories as (id, label), children as
    "parent › child", sorted by label; the directorates as (code, short name). No query of
    their own: the per-process copy is checked by the one reference-data statement, and the
    labels are built once per locale and copy of the rows."""
    rows = _FILTER_ROWS.get(db.session())
    cats, directorates = rows
    lang = str(get_locale())
    entry = _CHOICES.get(lang)
    if entry is None or entry[0] is not rows:
        english = lang == "en"
        label = {id_: (en if english and en else el) for id_, _p, el, en in cats}
        entry = (rows, sorted(((id_, (f"{label[parent]} › " if parent in label else "")
                                + label[id_]) for id_, parent, _el, _en in cats),
                              key=lambda pair: sort_key(pair[1])), by_label(directorates))
        _CHOICES[lang] = entry
    return list(entry[1]), list(entry[2]) if with_directorates else []


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
    #: The events' reasons this reader may read, rendered in their language, once each.
    reasons: list[str] = field(default_factory=list)
    #: Some of those reasons are staff-to-staff (the school does not read them): the page
    #: says so to the staff who read them.
    reasons_staff_only: bool = False


def readable_events(events, staff: bool) -> list[tuple[TicketEvent, bool]]:
    """(event, shows its reason) for each event the reader sees, in order
    (helpdesk.tickets.visibility; ``staff`` from permissions.sees_staff_text)."""
    out = []
    for e in events:
        seen = visibility.view(e.kind, is_internal=e.is_internal,
                               is_shared=e.is_shared_with_school, sees_staff_text=staff)
        if seen.is_shown:
            out.append((e, seen.shows_reason))
    return out


def _reasons(readable) -> list[str]:
    texts = [reason_text(e) for e, shows in readable if shows]
    return list(dict.fromkeys(t for t in texts if t))


def timeline(actor: User, ticket: Ticket) -> tuple[list[Entry], list[Attachment]]:
    """Messages, notes and events merged in time order; internal ones only for staff.

    Three queries whatever the length: messages, events, and every attachment of the
    ticket (each message's own, and the loose ones returned on their own)."""
    show_internal = sees_staff_text(actor, ticket)
    msgs = select(Message).where(Message.ticket_id == ticket.id).options(
        joinedload(Message.author))
    evts = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                     TicketEvent.kind.not_in(["reply", "note"])).options(
        joinedload(TicketEvent.actor))
    files = select(Attachment).where(Attachment.ticket_id == ticket.id)
    if not show_internal:
        msgs = msgs.where(Message.is_internal.is_(False))
        evts = evts.where(TicketEvent.is_internal.is_(False))
        files = files.where(or_(Attachment.message_id.is_not(None),
                                Attachment.is_internal.is_(False)))
    messages = db.session.scalars(msgs.order_by(Message.created_at, Message.id)).unique().all()
    events = db.session.scalars(evts.order_by(TicketEvent.at, TicketEvent.id)).all()
    by_message: dict[int, list[Attachment]] = {m.id: [] for m in messages}
    loose = []
    for a in db.session.scalars(files.order_by(Attachment.id)):
        if a.message_id is None:
            loose.append(a)
        elif a.message_id in by_message:  # a hidden note's files stay hidden
            by_message[a.message_id].append(a)
    for m in messages:
        set_committed_value(m, "attachments", by_message[m.id])
    entries = [Entry(m.created_at, "note" if m.is_internal else "message", m.author, message=m,
                     is_internal=m.is_internal) for m in messages]
    readable = readable_events(events, show_internal)
    for (at, _actor_id, kind), group in groupby(readable, key=lambda r: (r[0].at, r[0].actor_id,
                                                                        r[0].kind)):
        group = list(group)
        entries.append(Entry(at, kind, group[0][0].actor, events=[e for e, _ in group],
                             reasons=_reasons(group), reasons_staff_only=any(
                                 shows and not e.is_shared_with_school and e.reason
                                 for e, shows in group)))
    entries.sort(key=lambda e: (e.at, 0 if e.events else 1))
    return entries, loose


@dataclass
class Names:
    """What the ticket page names besides the ticket: the units and people its events
    mention, the resolution types, and (for the assign form) the unit's members."""

    unit: dict[int, str]
    assignee: dict[int, str]
    resolution_type: dict[str, str]
    #: (id, label) of every resolution type, in id order.
    resolution_choices: list[tuple[int, str]]
    #: (id, name) of the active members of the unit asked for, in Greek order of name.
    members: list[tuple[int, str]]
    #: Category code -> label, of the categories category events name.
    category: dict[str, str] = field(default_factory=dict)


def names_for_events(entries: list[Entry], members_of: int | None = None) -> Names:
    """Display names of the units, users and categories that events refer to, the
    resolution types and the members of ``members_of``: one query (a UNION ALL of the
    look-ups)."""
    unit_ids, user_ids, category_codes = set(), set(), set()
    for entry in entries:
        for e in entry.events:
            if e.field == "category":
                category_codes.update(v for v in (e.old_value, e.new_value) if v)
            target = unit_ids if e.field == "unit" else user_ids if e.field == "assignee" else None
            if target is not None:
                target.update(int(v) for v in (e.old_value, e.new_value) if v and v.isdigit())
    none = literal(None, String)
    parts = [
        select(literal("u").label("kind"), SupportUnit.id, none.label("code"),
               SupportUnit.name_el.label("name"), none.label("name_en"))
        .where(SupportUnit.id.in_(unit_ids)),
        select(literal("p"), User.id, none, User.name, none).where(User.id.in_(user_ids)),
        select(literal("r"), ResolutionType.id, ResolutionType.code, ResolutionType.name_el,
               ResolutionType.name_en),
    ]
    if category_codes:
        parts.append(select(literal("c"), Category.id, Category.code, Category.name_el,
                            Category.name_en).where(Category.code.in_(category_codes)))
    if members_of is not None:
        parts.append(select(literal("m"), User.id, none, User.name, none)
                     .join(UnitMembership, UnitMembership.user_id == User.id)
                     .where(UnitMembership.unit_id == members_of,
                            User.is_active_account.is_(True)))
    rows = union_all(*parts).subquery()
    # Members by name (the database's collation, as before), everything else by id.
    order = (rows.c.kind, case((rows.c.kind == "m", rows.c.name)), rows.c.id)
    names = Names({}, {}, {}, [], [])
    for kind, id_, code, name, name_en in db.session.execute(
            select(rows).order_by(*order)):
        if kind == "u":
            names.unit[id_] = name
        elif kind == "p":
            names.assignee[id_] = name
        elif kind == "m":
            names.members.append((id_, name))
        elif kind == "c":
            names.category[code] = localized(SimpleNamespace(name_el=name, name_en=name_en))
        else:
            label = localized(SimpleNamespace(name_el=name, name_en=name_en))
            names.resolution_type[code] = label
            names.resolution_choices.append((id_, label))
    names.members = by_label(names.members)
    return names


def unit_members(unit_id: int) -> list[User]:
    """Active members of a unit, for the assign form."""
    return list(db.session.scalars(
        select(User).join(UnitMembership).where(UnitMembership.unit_id == unit_id,
                                                User.is_active_account.is_(True))
        .order_by(User.name)))


def visible_attachment(actor: User, attachment_id: int) -> Attachment | None:
    """The attachment if the actor may see its ticket (and, unless they read staff text,
    it is public)."""
    stmt = scope_tickets(actor, select(Attachment, Ticket)
                         .join(Ticket, Ticket.id == Attachment.ticket_id)
                         .where(Attachment.id == attachment_id))
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    attachment, ticket = row
    if attachment.is_internal and not sees_staff_text(actor, ticket):
        return None
    return attachment


def open_tickets_of_directorate(directorate_id: int) -> dict[tuple[int, int, str], int]:
    """The open tickets of a directorate's schools, counted: {(level, unit id, status): n}
    (what a change of the directorate's partner affects; one grouped statement)."""
    rows = db.session.execute(
        select(Ticket.level, Ticket.unit_id, Ticket.status, func.count())
        .join(School, School.id == Ticket.school_id)
        .where(School.directorate_id == directorate_id,
               Ticket.status.in_(OPEN_STATUS_VALUES))
        .group_by(Ticket.level, Ticket.unit_id, Ticket.status)).all()
    return {(level, unit_id, str(status)): count for level, unit_id, status, count in rows}
