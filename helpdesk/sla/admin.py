"""The administrator's writers for SLA policies, working hours and closures.

Each writer takes the actor (an administrator: permissions.can_manage_sla) and ``now``,
validates (raising ValidationFailed naming the field), writes, records the change in the
audit log (helpdesk.audit: the object's fields before and after), flushes and never
commits; the view commits. Stored due times of tickets change the next time each ticket's
SLA is recomputed (any change to the ticket, or the sweep).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import case, select

from helpdesk.audit.services import record
from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import Category, SupportUnit
from helpdesk.permissions import can_manage_sla
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.sla.models import ACTIONS, BusinessHours, Closure, SlaPolicy
from helpdesk.sla.services import DEFAULT_TARGETS, default_policy

PRIORITIES = tuple(sorted(DEFAULT_TARGETS))
TARGET_FIELDS = ("first_response_minutes", "resolution_minutes", "level1_minutes",
                 "level2_minutes", "level3_minutes")
#: A target longer than a school year of working time is surely a typing error.
MAX_MINUTES = 400 * 7 * 60


@dataclass(frozen=True)
class Targets:
    """What an administrator sets on a policy (minutes of working time; None = no target)."""

    first_response_minutes: int | None
    resolution_minutes: int | None
    level1_minutes: int | None
    level2_minutes: int | None
    level3_minutes: int | None
    warn_ratio: float = 0.75
    action_on_level_breach: str = "escalate"


# --- the actor and the audit -----------------------------------------------------------

def _require(actor) -> None:
    if not can_manage_sla(actor):
        raise PermissionDenied()


def policy_fields(policy: SlaPolicy | None) -> dict | None:
    """A policy as the audit log keeps it."""
    if policy is None:
        return None
    return {"priority": policy.priority, "category_id": policy.category_id,
            **{name: getattr(policy, name) for name in TARGET_FIELDS},
            "warn_ratio": policy.warn_ratio,
            "action_on_level_breach": policy.action_on_level_breach}


def hours_fields(row: BusinessHours) -> dict:
    """A working interval as the audit log keeps it."""
    return {"unit_id": row.unit_id, "weekday": row.weekday,
            "start_time": row.start_time.strftime("%H:%M"),
            "end_time": row.end_time.strftime("%H:%M")}


def closure_fields(row: Closure) -> dict:
    """A closure as the audit log keeps it."""
    return {"day": row.day.isoformat(), "unit_id": row.unit_id, "description": row.description}


# --- policies --------------------------------------------------------------------------

def default_policies() -> list[tuple[SlaPolicy, bool]]:
    """Each priority's default policy and whether it is stored (else the built-in one)."""
    stored = {p.priority: p for p in db.session.scalars(
        select(SlaPolicy).where(SlaPolicy.category_id.is_(None)))}
    return [(stored[p], True) if p in stored else (default_policy(p), False)
            for p in reversed(PRIORITIES)]


def overrides() -> list[tuple[SlaPolicy, Category]]:
    """The per-category overrides with their category, by code then priority (urgent first)."""
    return [tuple(row) for row in db.session.execute(
        select(SlaPolicy, Category).join(Category, Category.id == SlaPolicy.category_id)
        .order_by(Category.code, SlaPolicy.priority.desc()))]


def category_of(policy: SlaPolicy) -> Category | None:
    return db.session.get(Category, policy.category_id) if policy.category_id else None


def get_override(policy_id: int) -> SlaPolicy:
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None or policy.category_id is None:
        raise NotFound()
    return policy


def _check_priority(priority) -> int:
    if priority not in PRIORITIES:
        raise ValidationFailed("priority", "Unknown priority.")
    return priority


def _check_targets(targets: Targets) -> None:
    for name in TARGET_FIELDS:
        value = getattr(targets, name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValidationFailed(name, "A target must be a positive working time.")
        if value > MAX_MINUTES:
            raise ValidationFailed(name, "A target may be at most %(hours)d working hours.",
                                   hours=MAX_MINUTES // 60)
    ratio = targets.warn_ratio
    if ratio is None or not 0 < ratio <= 1:
        raise ValidationFailed("warn_ratio", "The warning share must be between 1 and 100 percent.")
    if targets.action_on_level_breach not in ACTIONS:
        raise ValidationFailed("action_on_level_breach", "Unknown action.")


def _set(policy: SlaPolicy, targets: Targets) -> None:
    for name in TARGET_FIELDS:
        setattr(policy, name, getattr(targets, name))
    policy.warn_ratio = round(float(targets.warn_ratio), 4)
    policy.action_on_level_breach = targets.action_on_level_breach


def _save(actor, action: str, policy: SlaPolicy | None, priority: int, category_id: int | None,
          targets: Targets, now: datetime) -> SlaPolicy:
    before = policy_fields(policy)
    if policy is None:
        policy = SlaPolicy(priority=priority, category_id=category_id)
        db.session.add(policy)
    _set(policy, targets)
    db.session.flush()
    record(actor, action, "sla_policy", policy.id, before=before, after=policy_fields(policy),
           now=now)
    db.session.flush()
    return policy


def save_default_policy(actor, priority: int, targets: Targets, *, now: datetime) -> SlaPolicy:
    """Store the default policy of a priority (creating it if only the built-in existed)."""
    _require(actor)
    _check_priority(priority)
    _check_targets(targets)
    policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == priority,
                                                       SlaPolicy.category_id.is_(None)))
    return _save(actor, "sla.policy.save", policy, priority, None, targets, now)


def save_override(actor, priority: int, category_id: int | None, targets: Targets, *,
                  now: datetime) -> SlaPolicy:
    """Add (or replace) a category's override for a priority."""
    _require(actor)
    _check_priority(priority)
    if category_id is None or db.session.get(Category, category_id) is None:
        raise ValidationFailed("category_id", "Unknown category.")
    _check_targets(targets)
    policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == priority,
                                                       SlaPolicy.category_id == category_id))
    return _save(actor, "sla.override.save", policy, priority, category_id, targets, now)


def update_override(actor, policy_id: int, targets: Targets, *, now: datetime) -> SlaPolicy:
    """Change the targets of a category's override."""
    _require(actor)
    policy = get_override(policy_id)
    _check_targets(targets)
    return _save(actor, "sla.override.update", policy, policy.priority, policy.category_id,
                 targets, now)


def delete_override(actor, policy_id: int, *, now: datetime) -> None:
    """Remove a category's override; the priority's default applies again."""
    _require(actor)
    policy = get_override(policy_id)
    record(actor, "sla.override.delete", "sla_policy", policy.id, before=policy_fields(policy),
           after=None, now=now)
    db.session.delete(policy)
    db.session.flush()


# --- working hours ---------------------------------------------------------------------

def _check_unit(unit_id: int | None) -> None:
    if unit_id is not None and db.session.get(SupportUnit, unit_id) is None:
        raise ValidationFailed("unit_id", "Unknown support unit.")


def hours_rows() -> list[BusinessHours]:
    """All stored rows: the default ones first, then by unit, weekday and start."""
    return list(db.session.scalars(
        select(BusinessHours).order_by(case((BusinessHours.unit_id.is_(None), 0), else_=1),
                                       BusinessHours.unit_id, BusinessHours.weekday,
                                       BusinessHours.start_time)))


def add_hours(actor, unit_id: int | None, weekday: int, start: time | None, end: time | None,
              *, now: datetime) -> BusinessHours:
    """Add a working interval for a unit (or the default, unit None).

    The first default row starts from the built-in Monday–Friday 08:00–15:00 that applied
    until then, so adding one interval does not silently drop the rest of the week (the
    audit log records those rows as one "sla.hours.seed" entry).
    """
    _require(actor)
    _check_unit(unit_id)
    if weekday not in range(7):
        raise ValidationFailed("weekday", "Unknown weekday.")
    if start is None:
        raise ValidationFailed("start_time", "Enter a start time.")
    if end is None:
        raise ValidationFailed("end_time", "Enter an end time.")
    if start >= end:
        raise ValidationFailed("end_time", "The end must be after the start.")
    owner = (BusinessHours.unit_id.is_(None) if unit_id is None
             else BusinessHours.unit_id == unit_id)
    existing = db.session.scalars(select(BusinessHours).where(owner)).all()
    seeded = []
    if unit_id is None and not existing:
        existing = seeded = [BusinessHours(unit_id=None, weekday=d, start_time=s, end_time=e)
                             for d, s, e in BusinessCalendar().hours]
        db.session.add_all(existing)
    for row in existing:
        if row.weekday == weekday and row.start_time < end and start < row.end_time:
            raise ValidationFailed("start_time", "The interval overlaps %(start)s–%(end)s.",
                                   start=row.start_time.strftime("%H:%M"),
                                   end=row.end_time.strftime("%H:%M"))
    row = BusinessHours(unit_id=unit_id, weekday=weekday, start_time=start, end_time=end)
    db.session.add(row)
    db.session.flush()
    if seeded:
        record(actor, "sla.hours.seed", "business_hours", None, before=None,
               after={"rows": [hours_fields(r) for r in seeded]}, now=now)
    record(actor, "sla.hours.add", "business_hours", row.id, before=None,
           after=hours_fields(row), now=now)
    db.session.flush()
    return row


def delete_hours(actor, hours_id: int, *, now: datetime) -> None:
    """Remove a working interval."""
    _require(actor)
    row = db.session.get(BusinessHours, hours_id)
    if row is None:
        raise NotFound()
    record(actor, "sla.hours.delete", "business_hours", row.id, before=hours_fields(row),
           after=None, now=now)
    db.session.delete(row)
    db.session.flush()


# --- closures --------------------------------------------------------------------------

def closures(today: date) -> list[Closure]:
    """Upcoming closures first (soonest first), then past ones (latest first)."""
    rows = db.session.scalars(select(Closure).order_by(Closure.day, Closure.id)).all()
    upcoming = [c for c in rows if c.day >= today]
    past = [c for c in rows if c.day < today]
    return upcoming + past[::-1]


def add_closure(actor, day: date | None, unit_id: int | None, description: str, *,
                now: datetime) -> Closure:
    """Add a non-working date for every unit (unit None) or one unit."""
    _require(actor)
    if day is None:
        raise ValidationFailed("day", "Enter a date.")
    _check_unit(unit_id)
    description = (description or "").strip()
    if len(description) > 200:
        raise ValidationFailed("description", "At most %(max)d characters.", max=200)
    owner = Closure.unit_id.is_(None) if unit_id is None else Closure.unit_id == unit_id
    if db.session.scalar(select(Closure.id).where(Closure.day == day, owner)) is not None:
        raise ValidationFailed("day", "This date is already closed.")
    closure = Closure(day=day, unit_id=unit_id, description=description)
    db.session.add(closure)
    db.session.flush()
    record(actor, "sla.closure.add", "closure", closure.id, before=None,
           after=closure_fields(closure), now=now)
    db.session.flush()
    return closure


def delete_closure(actor, closure_id: int, *, now: datetime) -> None:
    """Remove a non-working date."""
    _require(actor)
    row = db.session.get(Closure, closure_id)
    if row is None:
        raise NotFound()
    record(actor, "sla.closure.delete", "closure", row.id, before=closure_fields(row),
           after=None, now=now)
    db.session.delete(row)
    db.session.flush()
