"""Report reads: every number is a SQL aggregate over the tickets the actor may report on.

No report loads tickets into Python: rows come back one per group (or per bucket).
Percentiles are ``percentile_cont`` on PostgreSQL and the same interpolation written
with window functions on SQLite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)

from helpdesk.core.display import CHANNEL_LABELS, LEVEL_LABELS, PRIORITY_LABELS
from helpdesk.core.localtime import zone
from helpdesk.core.types import UTCDateTime
from helpdesk.extensions import db
from helpdesk.org.models import Category, Directorate, Region, School, SupportUnit
from helpdesk.permissions import report_scope
from helpdesk.reports.filters import PERIOD_GROUPINGS, ReportFilters, period_buckets
from helpdesk.tickets.models import Ticket, TicketEvent, TicketStay
from helpdesk.tickets.states import OPEN_STATUS_VALUES, Status

DONE_STATUSES = (Status.RESOLVED.value, Status.CLOSED.value)
OPEN = OPEN_STATUS_VALUES
#: Age buckets of the backlog: (key, lower bound inclusive in days); the last is open-ended.
AGE_BUCKETS = (("lt1", 0), ("1-3", 1), ("3-7", 3), ("7-30", 7), ("gt30", 30))


# --- scope ---------------------------------------------------------------------------------------
# Who may report on what is decided in helpdesk.permissions (can_view_reports, report_scope).


def _filter_conditions(f: ReportFilters) -> list:
    """Conditions for the narrowing filters (not the period)."""
    conds = []
    if f.level is not None:
        conds.append(Ticket.level == f.level)
    if f.unit is not None:  # tickets that are or were at the unit
        conds.append(exists().where(TicketStay.ticket_id == Ticket.id, TicketStay.unit_id == f.unit))
    if f.directorate is not None:
        conds.append(Ticket.school_id.in_(
            select(School.id).where(School.directorate_id == f.directorate)))
    if f.region is not None:
        conds.append(Ticket.school_id.in_(
            select(School.id).join(Directorate, Directorate.id == School.directorate_id)
            .where(Directorate.region_id == f.region)))
    if f.category is not None:
        conds.append(Ticket.category_id.in_(
            select(Category.id).where(or_(Category.id == f.category, Category.parent_id == f.category))))
    if f.priority is not None:
        conds.append(Ticket.priority == f.priority)
    if f.channel is not None:
        conds.append(Ticket.channel == f.channel)
    return conds


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _prepare() -> None:
    """On PostgreSQL, no JIT for this transaction: compiling costs more than these scans."""
    if _dialect() == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def _buckets_table(buckets, name: str = "buckets"):
    """A derived table (key, ord, start_at, end_at) of literal rows, one per bucket."""
    rows = [select(literal(b.key).label("key"), literal(i).label("ord"),
                   literal(b.start_at, UTCDateTime).label("start_at"),
                   literal(b.end_at, UTCDateTime).label("end_at"))
            for i, b in enumerate(buckets)]
    return union_all(*rows).subquery(name) if len(rows) > 1 else rows[0].subquery(name)


def _base(actor, f: ReportFilters, *columns):
    """The tickets created in the period, in scope and filters, with a group key ``k``.

    A subquery, not a CTE: PostgreSQL then plans it inline with real row estimates.
    """
    conds = [report_scope(actor), Ticket.created_at >= f.start_at, Ticket.created_at < f.end_at,
             *_filter_conditions(f)]
    cols = [Ticket.id.label("id"), *columns]
    if f.grouping in PERIOD_GROUPINGS:
        b = _buckets_table(period_buckets(f))
        stmt = (select(b.c.key.label("k"), *cols).select_from(Ticket)
                .join(b, and_(Ticket.created_at >= b.c.start_at, Ticket.created_at < b.c.end_at)))
    elif f.grouping in ("region", "directorate"):
        key = Directorate.region_id if f.grouping == "region" else School.directorate_id
        stmt = (select(key.label("k"), *cols).select_from(Ticket)
                .join(School, School.id == Ticket.school_id)
                .join(Directorate, Directorate.id == School.directorate_id))
    else:
        key = {"level": Ticket.level, "unit": Ticket.unit_id, "category": Ticket.category_id,
               "priority": Ticket.priority, "channel": Ticket.channel}[f.grouping]
        stmt = select(key.label("k"), *cols).select_from(Ticket)
    return stmt.where(*conds).subquery("base")


def _count_if(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _ratio(num, den) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def _hours(minutes) -> float | None:
    return None if minutes is None else round(float(minutes) / 60.0, 2)


# --- group labels (one query per report) -----------------------------------------------------

def group_labels(grouping: str, keys, locale: str = "el") -> dict:
    """Readable names for the group keys of a report."""
    keys = [k for k in keys if k is not None]
    if grouping in PERIOD_GROUPINGS:
        return {k: k for k in keys}
    if grouping == "level":
        return {k: str(LEVEL_LABELS.get(k, k)) for k in keys}
    if grouping == "priority":
        return {k: str(PRIORITY_LABELS.get(k, k)) for k in keys}
    if grouping == "channel":

        return {k: str(CHANNEL_LABELS.get(k, k)) for k in keys}
    if not keys:
        return {}
    model = {"unit": SupportUnit, "region": Region, "category": Category}.get(grouping)
    en = locale == "en"
    if grouping == "directorate":
        rows = db.session.execute(select(Directorate.id, Directorate.short_name_el)
                                  .where(Directorate.id.in_(keys))).all()
        return dict(rows)
    rows = db.session.execute(select(model.id, model.name_el, model.name_en)
                              .where(model.id.in_(keys))).all()
    return {i: (name_en if en and name_en else name_el) for i, name_el, name_en in rows}


# --- a report's result -----------------------------------------------------------------------

@dataclass
class ReportTable:
    """Columns are (key, kind); kind is text, int, pct or hours. Rows are dicts by key."""

    columns: list[tuple[str, str]]
    rows: list[dict] = field(default_factory=list)
    total: dict | None = None


# --- percentiles -----------------------------------------------------------------------------

def _percentiles(base, value_col, ps=(0.5, 0.9)) -> dict:
    """{group key: (p50, p90)} of ``value_col`` within each group, as percentile_cont."""
    v = base.c[value_col]
    if _dialect() == "postgresql":
        stmt = (select(base.c.k, *[func.percentile_cont(p).within_group(v) for p in ps])
                .where(v.is_not(None)).group_by(base.c.k))
        return {k: tuple(vals) for k, *vals in db.session.execute(stmt)}
    ranked = select(
        base.c.k.label("k"), v.label("v"),
        (func.row_number().over(partition_by=base.c.k, order_by=v) - 1).label("i"),
        func.count().over(partition_by=base.c.k).label("n"),
    ).where(v.is_not(None)).subquery("ranked")
    parts = []
    for p in ps:
        pos = literal(p, Float) * (ranked.c.n - 1)
        lo = cast(pos, Integer)  # floor: positions are never negative
        hi = lo + case((pos > lo, 1), else_=0)
        v_lo = func.max(case((ranked.c.i == lo, ranked.c.v)))
        v_hi = func.max(case((ranked.c.i == hi, ranked.c.v)))
        parts.append(v_lo + (v_hi - v_lo) * func.max(pos - lo))
    stmt = select(ranked.c.k, *parts).group_by(ranked.c.k)
    return {k: tuple(vals) for k, *vals in db.session.execute(stmt)}


# --- SLA compliance --------------------------------------------------------------------------

COMPLIANCE_COLUMNS = [
    ("group", "text"), ("tickets", "int"),
    ("fr_targets", "int"), ("fr_met", "int"), ("fr_rate", "pct"),
    ("fr_median_h", "hours"), ("fr_p90_h", "hours"),
    ("res_targets", "int"), ("res_met", "int"), ("res_rate", "pct"),
    ("res_median_h", "hours"), ("res_p90_h", "hours"),
]


def sla_compliance(actor, f: ReportFilters, locale: str = "el") -> ReportTable:
    """Share of first responses and resolutions within target, and their times, by group."""
    base = _base(actor, f, Ticket.first_response_breached.label("frb"),
                 Ticket.resolution_breached.label("rb"),
                 Ticket.first_response_minutes.label("frm"), Ticket.resolution_minutes.label("rm"))
    _prepare()
    pg = _dialect() == "postgresql"
    pct = ([func.percentile_cont(p).within_group(col) for col in (base.c.frm, base.c.rm)
            for p in (0.5, 0.9)] if pg else [])
    stmt = (select(base.c.k, func.count(),
                   _count_if(base.c.frb.is_not(None)), _count_if(base.c.frb.is_(False)),
                   _count_if(base.c.rb.is_not(None)), _count_if(base.c.rb.is_(False)), *pct)
            .group_by(base.c.k).order_by(base.c.k))
    result = db.session.execute(stmt).all()
    counts = [row[:6] for row in result]
    if pg:  # in the same pass
        fr = {row[0]: row[6:8] for row in result}
        res = {row[0]: row[8:10] for row in result}
    else:  # window functions over the same subquery
        fr = _percentiles(base, "frm")
        res = _percentiles(base, "rm")
    labels = group_labels(f.grouping, [r[0] for r in counts], locale)
    table = ReportTable(COMPLIANCE_COLUMNS)
    for k, n, frt, frm, rt, rm in counts:
        fr_p = fr.get(k, (None, None))
        res_p = res.get(k, (None, None))
        table.rows.append({
            "key": k, "group": labels.get(k, k), "tickets": n,
            "fr_targets": frt, "fr_met": frm, "fr_rate": _ratio(frm, frt),
            "fr_median_h": _hours(fr_p[0]), "fr_p90_h": _hours(fr_p[1]),
            "res_targets": rt, "res_met": rm, "res_rate": _ratio(rm, rt),
            "res_median_h": _hours(res_p[0]), "res_p90_h": _hours(res_p[1]),
        })
    _sort_rows(table, f)
    return table


def _sort_rows(table: ReportTable, f: ReportFilters) -> None:
    if f.grouping in PERIOD_GROUPINGS or f.grouping in ("level", "priority"):
        table.rows.sort(key=lambda r: r["key"])
    else:
        table.rows.sort(key=lambda r: str(r["group"]))


# --- tiered support health -------------------------------------------------------------------

HEALTH_COLUMNS = [
    ("group", "text"), ("tickets", "int"), ("resolved", "int"), ("resolved_l1", "int"),
    ("resolved_l1_rate", "pct"), ("at_l1", "int"), ("escalated_1_2", "int"),
    ("escalation_1_2_rate", "pct"), ("at_l2", "int"), ("escalated_2_3", "int"),
    ("escalation_2_3_rate", "pct"), ("returned", "int"), ("return_rate", "pct"),
    ("ever_resolved", "int"), ("reopened", "int"), ("reopen_rate", "pct"),
    ("hours_l1", "hours"), ("hours_l2", "hours"), ("hours_l3", "hours"),
]


def _hours_between(end, start):
    if _dialect() == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _stays_per_ticket(f: ReportFilters):
    """One row per ticket: where it stayed and how it left (0/1 flags).

    Only stays that began in or after the period: a ticket filed in the period arrives
    nowhere before it was filed, and the join to the report's tickets drops the rest.
    """
    s = TicketStay
    flag = lambda cond: func.max(case((cond, 1), else_=0))  # noqa: E731
    return (select(s.ticket_id.label("ticket_id"),
                   flag(s.level == 1).label("at1"),
                   flag(and_(s.level == 1, s.left_how == "escalated")).label("esc1"),
                   flag(s.level == 2).label("at2"),
                   flag(and_(s.level == 2, s.left_how == "escalated")).label("esc2"),
                   flag(s.left_how == "returned").label("ret"),
                   flag(s.level > 1).label("above1"))
            .where(s.arrived_at >= f.start_at).group_by(s.ticket_id).subquery("st"))


def tier_health(actor, f: ReportFilters, now: datetime, locale: str = "el") -> ReportTable:
    """Resolution at level 1, escalations, returns, reopens and time at each level, by group."""
    base = _base(actor, f, Ticket.status.label("status"), Ticket.resolved_at.label("resolved_at"),
                 Ticket.closed_at.label("closed_at"))
    _prepare()
    st = _stays_per_ticket(f)
    reopened = (select(TicketEvent.ticket_id.label("ticket_id"))
                .where(TicketEvent.kind == "reopen", TicketEvent.at >= f.start_at)
                .group_by(TicketEvent.ticket_id).subquery("ro"))
    done = base.c.status.in_(DONE_STATUSES)
    was_reopened = reopened.c.ticket_id.is_not(None)
    stmt = (select(base.c.k, func.count(), _count_if(done),
                   _count_if(and_(done, func.coalesce(st.c.above1, 0) == 0)),
                   _count_if(st.c.at1 == 1), _count_if(st.c.esc1 == 1),
                   _count_if(st.c.at2 == 1), _count_if(st.c.esc2 == 1), _count_if(st.c.ret == 1),
                   _count_if(or_(done, base.c.resolved_at.is_not(None), was_reopened)),
                   _count_if(was_reopened))
            .select_from(base).outerjoin(st, st.c.ticket_id == base.c.id)
            .outerjoin(reopened, reopened.c.ticket_id == base.c.id)
            .group_by(base.c.k))
    counts = db.session.execute(stmt).all()
    end = func.coalesce(TicketStay.left_at, base.c.resolved_at, base.c.closed_at,
                        literal(now, UTCDateTime))
    duration = _hours_between(end, TicketStay.arrived_at)
    times = {k: vals for k, *vals in db.session.execute(
        select(base.c.k, *[func.avg(case((TicketStay.level == lv, duration))) for lv in (1, 2, 3)])
        .select_from(base).join(TicketStay, TicketStay.ticket_id == base.c.id).group_by(base.c.k))}
    labels = group_labels(f.grouping, [r[0] for r in counts], locale)
    table = ReportTable(HEALTH_COLUMNS)
    for k, n, resolved, res_l1, at1, esc1, at2, esc2, ret, ever, reop in counts:
        h = times.get(k, (None, None, None))
        table.rows.append({
            "key": k, "group": labels.get(k, k), "tickets": n, "resolved": resolved,
            "resolved_l1": res_l1, "resolved_l1_rate": _ratio(res_l1, resolved),
            "at_l1": at1, "escalated_1_2": esc1, "escalation_1_2_rate": _ratio(esc1, at1),
            "at_l2": at2, "escalated_2_3": esc2, "escalation_2_3_rate": _ratio(esc2, at2),
            "returned": ret, "return_rate": _ratio(ret, n),
            "ever_resolved": ever, "reopened": reop, "reopen_rate": _ratio(reop, ever),
            **{f"hours_l{lv}": (None if v is None else round(float(v), 2))
               for lv, v in zip((1, 2, 3), h, strict=True)},
        })
    _sort_rows(table, f)
    return table


# --- backlog and ageing ----------------------------------------------------------------------

AGEING_COLUMNS = [("age", "text"), ("level_1", "int"), ("level_2", "int"), ("level_3", "int"),
                  ("total", "int")]
TREND_COLUMNS = [("period_end", "text"), ("open", "int")]


def _scoped(actor, f: ReportFilters) -> list:
    return [report_scope(actor), *_filter_conditions(f)]


def backlog_ageing(actor, f: ReportFilters, now: datetime) -> ReportTable:
    """Open tickets now, by age bucket (rows) and level (columns)."""
    _prepare()
    bucket = case(*_age_whens(now), else_=len(AGE_BUCKETS) - 1)
    stmt = (select(bucket.label("b"), Ticket.level, func.count())
            .where(Ticket.status.in_(OPEN), *_scoped(actor, f)).group_by(bucket, Ticket.level))
    grid = {(b, lv): n for b, lv, n in db.session.execute(stmt)}
    table = ReportTable(AGEING_COLUMNS)
    for i, (key, _days) in enumerate(AGE_BUCKETS):
        row = {"key": key, "age": key}
        for lv in (1, 2, 3):
            row[f"level_{lv}"] = grid.get((i, lv), 0)
        row["total"] = sum(row[f"level_{lv}"] for lv in (1, 2, 3))
        table.rows.append(row)
    table.total = {"key": "total", "age": "total",
                   **{c: sum(r[c] for r in table.rows) for c, kind in AGEING_COLUMNS if kind == "int"}}
    return table


def _age_whens(now: datetime):
    """(created after now - upper bound of bucket i, i) for every bucket but the last."""
    uppers = [days for _key, days in AGE_BUCKETS[1:]]
    return [(Ticket.created_at > now - timedelta(days=d), i) for i, d in enumerate(uppers)]


def _index_of(ts, points):
    """SQL: the index of the first point strictly after ``ts``; NULL past the last."""
    return case(*[(ts < p, i) for i, p in enumerate(points)], else_=None)


def backlog_trend(actor, f: ReportFilters, now: datetime) -> ReportTable:
    """Open tickets at the end of each week or month of the period (one pass over tickets)."""
    _prepare()
    buckets = period_buckets(f, f.step)
    points = [min(b.end_at, now) for b in buckets]
    last = points[-1]
    done_at = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    scoped = _scoped(actor, f)
    events = union_all(
        select(_index_of(Ticket.created_at, points).label("i"), literal(1).label("delta"))
        .where(Ticket.created_at < last, *scoped),
        select(_index_of(done_at, points).label("i"), literal(-1).label("delta"))
        .where(done_at < last, *scoped),
    ).subquery("changes")
    per_bucket = (select(events.c.i.label("i"), func.sum(events.c.delta).label("delta"))
                  .group_by(events.c.i).subquery("per_bucket"))
    stmt = select(per_bucket.c.i,
                  func.sum(per_bucket.c.delta).over(order_by=per_bucket.c.i)).order_by(per_bucket.c.i)
    running = dict(db.session.execute(stmt).all())
    table = ReportTable(TREND_COLUMNS)
    value = 0
    for i, b in enumerate(buckets):
        value = int(running.get(i, value))
        label = (b.end_at - timedelta(seconds=1)).astimezone(zone()).date().isoformat()
        table.rows.append({"key": i, "period_end": label, "open": value})
    return table


# --- the schools' satisfaction ---------------------------------------------------------------

SATISFACTION_COLUMNS = [
    ("group", "text"), ("ever_resolved", "int"), ("confirmed", "int"), ("confirmed_rate", "pct"),
    ("reopened", "int"), ("reopen_rate", "pct"), ("rated", "int"), ("avg_rating", "score"),
]


def satisfaction(actor, f: ReportFilters, locale: str = "el") -> ReportTable:
    """What the schools said of the resolutions, by group: how many confirmed them, how
    many were reopened, and the average of their 1–5 ratings (one query, and the labels)."""
    base = _base(actor, f, Ticket.status.label("status"), Ticket.resolved_at.label("resolved_at"),
                 Ticket.confirmed_at.label("confirmed_at"), Ticket.rating.label("rating"))
    _prepare()
    reopened = (select(TicketEvent.ticket_id.label("ticket_id"))
                .where(TicketEvent.kind == "reopen", TicketEvent.at >= f.start_at)
                .group_by(TicketEvent.ticket_id).subquery("ro"))
    was_reopened = reopened.c.ticket_id.is_not(None)
    ever = or_(base.c.status.in_(DONE_STATUSES), base.c.resolved_at.is_not(None), was_reopened)
    stmt = (select(base.c.k, _count_if(ever), _count_if(base.c.confirmed_at.is_not(None)),
                   _count_if(was_reopened), func.count(base.c.rating),
                   func.avg(cast(base.c.rating, Float)))
            .select_from(base).outerjoin(reopened, reopened.c.ticket_id == base.c.id)
            .group_by(base.c.k))
    counts = db.session.execute(stmt).all()
    labels = group_labels(f.grouping, [r[0] for r in counts], locale)
    table = ReportTable(SATISFACTION_COLUMNS)
    for k, resolved, confirmed, reop, rated, average in counts:
        table.rows.append({
            "key": k, "group": labels.get(k, k), "ever_resolved": resolved,
            "confirmed": confirmed, "confirmed_rate": _ratio(confirmed, resolved),
            "reopened": reop, "reopen_rate": _ratio(reop, resolved), "rated": rated,
            "avg_rating": None if average is None else round(float(average), 2),
        })
    _sort_rows(table, f)
    return table
