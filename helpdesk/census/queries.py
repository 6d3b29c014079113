"""Census reads: target schools, campaign lists, completion dashboard, procurement report."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, exists, func, literal, select, true

from helpdesk.accounts.models import User
from helpdesk.census import rules, verification
from helpdesk.census.models import Census, CensusSnapshotItem, CensusSubmission, target_condition
from helpdesk.extensions import db
from helpdesk.inventory.models import EquipmentCategory, TicketEquipment
from helpdesk.org.models import Directorate, Region, School
from helpdesk.permissions import census_school_ids, census_targets
from helpdesk.tickets.models import Ticket

# --- the target ------------------------------------------------------------------------------

def _scoped(actor: User | None, *conds):
    """``conds`` plus the actor's census scope on School."""
    ids = census_school_ids(actor) if actor is not None else None
    return and_(*conds, School.id.in_(ids) if ids is not None else true())


def target_school_ids(census: Census):
    """A select of the ids of the campaign's schools."""
    return select(School.id).where(target_condition(census))


def count_targets(census: Census) -> int:
    return db.session.scalar(select(func.count()).select_from(School).where(target_condition(census)))


def is_targeted(census: Census, school_id: int) -> bool:
    return census_targets(census, school_id)


# --- campaigns ---------------------------------------------------------------------------------

def get_census(census_id: int) -> Census | None:
    return db.session.get(Census, census_id)


def list_censuses() -> list[Census]:
    """Every campaign, the latest deadline first (a handful a year)."""
    return list(db.session.scalars(select(Census).order_by(Census.deadline.desc(), Census.id.desc())))


def list_for_school(school_id: int, now: datetime) -> list[tuple[Census, CensusSubmission | None]]:
    """The opened campaigns that target the school, with its submission if any."""
    today = rules.athens_day(now)
    rows = []
    for census in db.session.scalars(select(Census).where(Census.opens_on <= today)
                                     .order_by(Census.deadline.desc())):
        if is_targeted(census, school_id):
            rows.append((census, get_submission(census.id, school_id)))
    return rows


def get_submission(census_id: int, school_id: int) -> CensusSubmission | None:
    return db.session.scalar(select(CensusSubmission).where(
        CensusSubmission.census_id == census_id, CensusSubmission.school_id == school_id))


# --- completion --------------------------------------------------------------------------------

@dataclass
class Completion:
    """Targeted, on time, late and missing counts of one group."""

    key: object
    name: str
    targeted: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    children: list = field(default_factory=list)

    def add(self, other: Completion) -> None:
        self.targeted += other.targeted
        self.on_time += other.on_time
        self.late += other.late
        self.missing += other.missing

    @property
    def on_time_pct(self) -> float:
        return round(100 * self.on_time / self.targeted, 1) if self.targeted else 0.0


def _submission_join(census: Census):
    return and_(CensusSubmission.census_id == census.id, CensusSubmission.school_id == School.id)


def completion(actor: User | None, census: Census) -> tuple[Completion, list[Completion]]:
    """National total and per-region rows (each with its directorates), one GROUP BY query."""
    sub = CensusSubmission
    stmt = (select(Region.id, Region.name_el, Directorate.id, Directorate.short_name_el,
                   func.count(School.id),
                   func.sum(case((and_(sub.id.is_not(None), sub.is_late.is_(False)), 1), else_=0)),
                   func.sum(case((sub.is_late.is_(True), 1), else_=0)),
                   func.sum(case((sub.id.is_(None), 1), else_=0)))
            .select_from(School)
            .join(Directorate, Directorate.id == School.directorate_id)
            .join(Region, Region.id == Directorate.region_id)
            .outerjoin(sub, _submission_join(census))
            .where(_scoped(actor, target_condition(census)))
            .group_by(Region.id, Region.name_el, Directorate.id, Directorate.short_name_el)
            .order_by(Region.name_el, Directorate.short_name_el))
    total = Completion(None, "")
    regions: dict[int, Completion] = {}
    for rid, rname, did, dname, targeted, on_time, late, missing in db.session.execute(stmt):
        row = Completion(did, dname, targeted, on_time or 0, late or 0, missing or 0)
        region = regions.setdefault(rid, Completion(rid, rname))
        region.children.append(row)
        region.add(row)
        total.add(row)
    return total, list(regions.values())


def missing_schools(actor: User | None, census: Census, *, region_id: int | None = None,
                    directorate_id: int | None = None, limit: int | None = 500):
    """Targeted schools that have not submitted: (School, directorate name, region name)."""
    stmt = (select(School, Directorate.short_name_el, Region.name_el)
            .join(Directorate, Directorate.id == School.directorate_id)
            .join(Region, Region.id == Directorate.region_id)
            .where(_scoped(actor, target_condition(census)),
                   ~exists().where(_submission_join(census)))
            .order_by(Region.name_el, Directorate.short_name_el, School.name))
    if region_id:
        stmt = stmt.where(Directorate.region_id == region_id)
    if directorate_id:
        stmt = stmt.where(School.directorate_id == directorate_id)
    if limit:
        stmt = stmt.limit(limit)
    return db.session.execute(stmt).all()


# --- procurement planning ------------------------------------------------------------------

GROUPS = ("region", "directorate", "school", "all")
STATUSES = ("in_use", "faulty", "in_repair", "pending")


@dataclass
class Table:
    """Columns are keys; rows are dicts by key (the group and category columns are text)."""

    columns: list[str]
    rows: list[dict] = field(default_factory=list)


def _on_time_items(actor: User | None, census: Census):
    """The select base: snapshot items of on-time submissions, with school, directorate, region."""
    return (select()
            .select_from(CensusSnapshotItem)
            .join(CensusSubmission, CensusSubmission.id == CensusSnapshotItem.submission_id)
            .join(School, School.id == CensusSubmission.school_id)
            .join(Directorate, Directorate.id == School.directorate_id)
            .join(Region, Region.id == Directorate.region_id)
            .join(EquipmentCategory, EquipmentCategory.id == CensusSnapshotItem.category_id)
            .where(CensusSubmission.census_id == census.id, CensusSubmission.is_late.is_(False),
                   _scoped(actor)))


def _group_columns(by: str, english: bool):
    if by == "region":
        return [Region.id, Region.name_en if english else Region.name_el]
    if by == "directorate":
        return [Directorate.id, Directorate.short_name_el]
    if by == "school":
        return [School.id, School.code + " " + School.name]
    return [literal(0), literal("")]


def _age_case(census: Census):
    """CASE expression naming the age bucket of CensusSnapshotItem at the deadline."""
    acquired = CensusSnapshotItem.acquisition_date
    whens = [(acquired.is_(None), "age_unknown")]
    for key, _low, high in rules.AGE_BUCKETS:
        if high is not None:
            whens.append((acquired > rules.years_before(census.deadline, high), key))
    return case(*whens, else_=rules.AGE_BUCKETS[-1][0])


AGE_KEYS = (*(key for key, _l, _h in rules.AGE_BUCKETS), "age_unknown")


def equipment_counts(actor: User | None, census: Census, by: str = "region",
                     english: bool = False) -> Table:
    """Items of the on-time snapshots per group and category: by status and age bucket."""
    gid, gname = _group_columns(by, english)
    cat_name = EquipmentCategory.name_en if english else EquipmentCategory.name_el
    age = _age_case(census)
    status = CensusSnapshotItem.status
    stmt = (_on_time_items(actor, census)
            .add_columns(gid, gname, EquipmentCategory.code, cat_name,
                         func.count(CensusSnapshotItem.id),
                         *[func.sum(case((status == s, 1), else_=0)) for s in STATUSES],
                         *[func.sum(case((age == k, 1), else_=0)) for k in AGE_KEYS])
            .group_by(gid, gname, EquipmentCategory.code, cat_name)
            .order_by(gname, EquipmentCategory.code))
    columns = ["group", "category", "items", *STATUSES, *AGE_KEYS]
    table = Table(columns)
    for row in db.session.execute(stmt):
        _gid, group, _code, category, items, *rest = row
        table.rows.append(dict(zip(columns, [group, category, items, *[v or 0 for v in rest]])))
    return table


def fault_window(census: Census) -> tuple[datetime, datetime]:
    """The year before the end of the deadline day: the period fault rates are counted in."""
    end = rules.end_of_day(census.deadline)
    return end - timedelta(days=365), end


def fault_rates(actor: User | None, census: Census, by: str = "model",
                english: bool = False) -> Table:
    """Tickets per item per year for the on-time snapshot items, by category (and model).

    A ticket counts for an item when it is linked to it (TicketEquipment) and was filed in
    the year before the deadline; an item linked to two tickets counts two.
    """
    start, end = fault_window(census)
    links = (select(TicketEquipment.item_id, func.count().label("n"))
             .join(Ticket, Ticket.id == TicketEquipment.ticket_id)
             .where(Ticket.created_at >= start, Ticket.created_at < end)
             .group_by(TicketEquipment.item_id).subquery())
    cat_name = EquipmentCategory.name_en if english else EquipmentCategory.name_el
    keys = [EquipmentCategory.code, cat_name]
    if by == "model":
        keys += [CensusSnapshotItem.manufacturer, CensusSnapshotItem.model]
    stmt = (_on_time_items(actor, census)
            .outerjoin(links, links.c.item_id == CensusSnapshotItem.item_id)
            .add_columns(*keys, func.count(CensusSnapshotItem.id),
                         func.coalesce(func.sum(links.c.n), 0))
            .group_by(*keys).order_by(*keys))
    columns = ["category", *(["manufacturer", "model"] if by == "model" else []),
               "items", "tickets", "rate"]
    table = Table(columns)
    for row in db.session.execute(stmt):
        values = list(row[1:])
        items, tickets = values[-2], int(values[-1])
        table.rows.append(dict(zip(columns, [*values[:-2], items, tickets,
                                             round(tickets / items, 3) if items else 0.0])))
    table.rows.sort(key=lambda r: (-r["rate"], r["category"]))
    return table


# --- the statement's verification code -------------------------------------------------------

def statement_code(submission: CensusSubmission) -> str:
    """The verification code printed on ``submission``'s statement."""
    snap = submission.snapshot or {}
    return verification.make_code(current_app.config["SECRET_KEY"], submission.id,
                                  submission.census_id, snap.get("school", {}).get("code", ""),
                                  snap)


def verified_submission(code: str | None) -> CensusSubmission | None:
    """The submission whose current snapshot ``code`` was made for, else None (public)."""
    parsed = verification.parse_code(code)
    if parsed is None:
        return None
    submission = db.session.get(CensusSubmission, parsed[0])
    snap = submission.snapshot if submission is not None else {}
    valid = verification.is_valid(  # computed for unknown ids too: the time tells nothing
        code, current_app.config["SECRET_KEY"], parsed[0],
        submission.census_id if submission is not None else 0,
        (snap or {}).get("school", {}).get("code", ""), snap or {})
    return submission if valid and submission is not None else None
