"""Incident reads: the banner of a school, the lists, the timeline, linked tickets, and
the report's aggregates (in SQL)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from helpdesk.core.text import like_pattern
from helpdesk.extensions import db
from helpdesk.incidents import rules
from helpdesk.incidents.models import Incident, IncidentLink, IncidentScope, IncidentUpdate
from helpdesk.org.models import Directorate, Region, School, SupportUnit
from helpdesk.permissions import school_place, ticket_scope
from helpdesk.reports.filters import athens_midnight
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.states import OPEN_STATUS_VALUES

PAGE_SIZE = 50


def _covering(place: rules.Place):
    """The SQL condition on Incident: its scope includes the school at ``place``
    (rules.covers, as a query)."""
    partners = sorted(place.partner_ids) or [-1]
    row = or_(and_(IncidentScope.kind == "school", IncidentScope.ref_id == place.school_id),
              and_(IncidentScope.kind == "directorate",
                   IncidentScope.ref_id == place.directorate_id),
              and_(IncidentScope.kind == "region", IncidentScope.ref_id == place.region_id),
              and_(IncidentScope.kind == "partner", IncidentScope.ref_id.in_(partners)))
    return or_(Incident.scope_kind == rules.ScopeKind.COUNTRY,
               Incident.id.in_(select(IncidentScope.incident_id).where(row)))


def open_for_school(school_id: int | None) -> list[Incident]:
    """The open incidents whose scope includes the school (the banner), newest first."""
    place = school_place(school_id) if school_id else None
    if place is None:
        return []
    return list(db.session.scalars(
        select(Incident).where(Incident.status.in_(sorted(rules.OPEN_STATUSES)),
                               _covering(place))
        .order_by(Incident.updated_at.desc()).limit(10)))


def linked_incident_ids(ticket_ids) -> dict[int, int]:
    """{ticket id: the incident it is linked to} for these tickets (one query)."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(IncidentLink.ticket_id, IncidentLink.incident_id)
                                   .where(IncidentLink.ticket_id.in_(ids),
                                          IncidentLink.unlinked_at.is_(None))).all())


def incident_of_ticket(ticket_id: int) -> Incident | None:
    return db.session.scalar(select(Incident).join(
        IncidentLink, IncidentLink.incident_id == Incident.id).where(
        IncidentLink.ticket_id == ticket_id, IncidentLink.unlinked_at.is_(None)))


def for_ticket_page(ticket_id: int, *, with_open: bool) -> tuple[Incident | None, list[Incident]]:
    """(the incident the ticket is linked to, the open incidents it may be linked to when
    ``with_open``) in one query (the ticket page has a query budget)."""
    link = and_(IncidentLink.incident_id == Incident.id, IncidentLink.ticket_id == ticket_id,
                IncidentLink.unlinked_at.is_(None))
    linked_cond = IncidentLink.ticket_id.is_not(None)
    cond = or_(Incident.status.in_(sorted(rules.OPEN_STATUSES)), linked_cond) if with_open \
        else linked_cond
    rows = db.session.execute(
        select(Incident, IncidentLink.ticket_id).outerjoin(IncidentLink, link).where(cond)
        .order_by(Incident.created_at.desc()).limit(101)).all()
    linked = next((i for i, t in rows if t is not None), None)
    return linked, [i for i, _t in rows if rules.is_open(i.status)][:100]


def open_tickets_of_school(school_id: int, limit: int = 50) -> list[Ticket]:
    """A school's open requests not linked to an incident (the "link an existing one"
    choice of "we are affected too")."""
    linked = select(IncidentLink.ticket_id).where(IncidentLink.unlinked_at.is_(None),
                                                  IncidentLink.school_id == school_id)
    return list(db.session.scalars(
        select(Ticket).where(Ticket.school_id == school_id,
                             Ticket.status.in_(OPEN_STATUS_VALUES),
                             Ticket.id.not_in(linked))
        .order_by(Ticket.updated_at.desc()).limit(limit)))


def school_linked_tickets(school_id: int, incident_id: int) -> list[Ticket]:
    """The school's requests linked to the incident."""
    return list(db.session.scalars(
        select(Ticket).join(IncidentLink, IncidentLink.ticket_id == Ticket.id)
        .where(IncidentLink.incident_id == incident_id, IncidentLink.school_id == school_id,
               IncidentLink.unlinked_at.is_(None)).order_by(Ticket.id)))


def open_incidents(limit: int = 100) -> list:
    """The open incidents' ids and titles (choices for linking), newest first."""
    return list(db.session.execute(
        select(Incident.id, Incident.title).where(Incident.status.in_(sorted(rules.OPEN_STATUSES)))
        .order_by(Incident.created_at.desc()).limit(limit)))


@dataclass
class Filters:
    status: str = ""
    scope: str = ""
    q: str = ""
    month: str = ""  # YYYY-MM, Athens time
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("status", "")
        scope = args.get("scope", "")
        month = args.get("month", "")
        try:
            page = max(1, min(int(args.get("page", 1)), 1000))
        except ValueError:
            page = 1
        return cls(status=status if status in {s.value for s in rules.Status} | {"open"} else "",
                   scope=scope if scope in {k.value for k in rules.ScopeKind} else "",
                   q=(args.get("q") or "").strip()[:100],
                   month=month if _month(month) else "", page=page)


def _month(value: str) -> tuple[datetime, datetime] | None:
    try:
        year, month = (int(x) for x in value.split("-"))
        start = date(year, month, 1)
    except (ValueError, TypeError):
        return None
    end = date(year + (month == 12), month % 12 + 1, 1)
    return athens_midnight(start), athens_midnight(end)


def listing(f: Filters, page_size: int = PAGE_SIZE) -> tuple[list[Incident], bool]:
    """Incidents by the filters, open first then by last change; (page, more)."""
    stmt = select(Incident)
    if f.status == "open":
        stmt = stmt.where(Incident.status.in_(sorted(rules.OPEN_STATUSES)))
    elif f.status:
        stmt = stmt.where(Incident.status == f.status)
    if f.scope:
        stmt = stmt.where(Incident.scope_kind == f.scope)
    if f.q:
        stmt = stmt.where(func.lower(Incident.title).like(like_pattern(f.q.lower()), escape="\\"))
    span = _month(f.month) if f.month else None
    if span:
        stmt = stmt.where(Incident.created_at >= span[0], Incident.created_at < span[1])
    is_resolved = case((Incident.status == rules.Status.RESOLVED, 1), else_=0)
    rows = list(db.session.scalars(
        stmt.order_by(is_resolved, Incident.updated_at.desc(), Incident.id.desc())
        .offset((f.page - 1) * page_size).limit(page_size + 1)))
    return rows[:page_size], len(rows) > page_size


def counts(incident_ids) -> dict[int, tuple[int, int]]:
    """{incident id: (linked tickets, schools)} of the active links (one query)."""
    ids = list(incident_ids)
    if not ids:
        return {}
    return {i: (n, s) for i, n, s in db.session.execute(
        select(IncidentLink.incident_id, func.count(), func.count(IncidentLink.school_id.distinct()))
        .where(IncidentLink.incident_id.in_(ids), IncidentLink.unlinked_at.is_(None))
        .group_by(IncidentLink.incident_id))}


def timeline(incident_id: int) -> list[IncidentUpdate]:
    return list(db.session.scalars(
        select(IncidentUpdate).where(IncidentUpdate.incident_id == incident_id)
        .options(joinedload(IncidentUpdate.author))
        .order_by(IncidentUpdate.created_at.desc(), IncidentUpdate.id.desc())))


def scope_names(incident: Incident, locale: str = "el", limit: int = 50) -> list[str]:
    """The names of the places in the scope (at most ``limit``; one query)."""
    if incident.scope_kind == rules.ScopeKind.COUNTRY:
        return []
    ids = select(IncidentScope.ref_id).where(IncidentScope.incident_id == incident.id)
    kind = rules.ScopeKind(incident.scope_kind)
    name = {rules.ScopeKind.REGIONS: Region.name_en if locale == "en" else Region.name_el,
            rules.ScopeKind.DIRECTORATES: Directorate.name_el,
            rules.ScopeKind.PARTNERS: SupportUnit.name_en if locale == "en" else SupportUnit.name_el,
            rules.ScopeKind.SCHOOLS: School.name}[kind]
    table = name.class_
    return list(db.session.scalars(select(name).where(table.id.in_(ids)).order_by(name)
                                   .limit(limit)))


def linked_tickets(actor, incident_id: int, limit: int = 200) -> list[Ticket]:
    """The tickets linked to the incident that ``actor`` may see (the staff panel)."""
    return list(db.session.scalars(
        select(Ticket).join(IncidentLink, IncidentLink.ticket_id == Ticket.id)
        .where(IncidentLink.incident_id == incident_id, IncidentLink.unlinked_at.is_(None),
               ticket_scope(actor))
        .options(joinedload(Ticket.school)).order_by(Ticket.id).limit(limit)))


def scope_choices(locale: str = "el") -> dict[str, list[tuple[int, str]]]:
    """The places a scope may name, by kind (the creation form); schools are typed."""
    def rows(stmt):
        return [(i, n) for i, n in db.session.execute(stmt)]
    region_name = Region.name_en if locale == "en" else Region.name_el
    unit_name = SupportUnit.name_en if locale == "en" else SupportUnit.name_el
    return {
        "regions": rows(select(Region.id, region_name).order_by(region_name)),
        "directorates": rows(select(Directorate.id, Directorate.name_el)
                             .order_by(Directorate.name_el)),
        "partners": rows(select(SupportUnit.id, unit_name).where(SupportUnit.level == 2)
                         .order_by(unit_name)),
    }


def school_ids_by_code(codes) -> tuple[list[int], list[str]]:
    """(ids, unknown codes) of schools named by their 7-digit codes."""
    codes = sorted({c for c in codes if c})
    found = dict(db.session.execute(select(School.code, School.id)
                                    .where(School.code.in_(codes))).all()) if codes else {}
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]



# --- the report --------------------------------------------------------------------------------

@dataclass
class MonthRow:
    month: str
    incidents: int
    resolved: int
    schools: int
    tickets: int
    #: Mean hours from declaration to resolution of those resolved.
    hours_to_resolve: float | None


def report(months: list[tuple[str, datetime, datetime]]) -> list[MonthRow]:
    """Incidents declared in each month (Athens time): how many, resolved, schools and
    tickets linked, mean time to resolve; one aggregate query."""
    if not months:
        return []
    bucket = case(*[(and_(Incident.created_at >= s, Incident.created_at < e), key)
                    for key, s, e in months], else_=None).label("k")
    linked = (select(IncidentLink.incident_id.label("iid"),
                     func.count(IncidentLink.school_id.distinct()).label("schools"),
                     func.count().label("tickets"))
              .where(IncidentLink.unlinked_at.is_(None))
              .group_by(IncidentLink.incident_id).subquery())
    if db.session.get_bind().dialect.name == "postgresql":
        hours = func.extract("epoch", Incident.resolved_at - Incident.created_at) / 3600.0
    else:
        hours = (func.julianday(Incident.resolved_at) - func.julianday(Incident.created_at)) * 24.0
    inner = (select(bucket, Incident.id.label("id"), Incident.resolved_at.label("resolved_at"),
                    hours.label("hours"), func.coalesce(linked.c.schools, 0).label("schools"),
                    func.coalesce(linked.c.tickets, 0).label("tickets"))
             .outerjoin(linked, linked.c.iid == Incident.id)
             .where(Incident.created_at >= months[0][1], Incident.created_at < months[-1][2])
             .subquery())
    rows = {k: (n, r, s, t, h) for k, n, r, s, t, h in db.session.execute(
        select(inner.c.k, func.count(), func.count(inner.c.resolved_at), func.sum(inner.c.schools),
               func.sum(inner.c.tickets), func.avg(inner.c.hours)).group_by(inner.c.k))}
    out = []
    for key, _s, _e in months:
        n, r, s, t, h = rows.get(key, (0, 0, 0, 0, None))
        out.append(MonthRow(key, n, r, int(s or 0), int(t or 0),
                            None if h is None else round(float(h), 1)))
    return out
