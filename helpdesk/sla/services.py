"""SLA writers: recompute a ticket's stored SLA, seed policies, the escalation sweep.

Everything here flushes and never commits; the sweep hands each finished batch to
``on_batch`` (the job commits there, which also releases the batch's row locks).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from helpdesk.extensions import db
from helpdesk.sla import clock
from helpdesk.sla.calendar import BusinessCalendar, calendar_from_rows
from helpdesk.sla.models import BusinessHours, Closure, SlaPolicy
from helpdesk.tickets.models import Ticket, TicketEvent

log = logging.getLogger(__name__)

DAY = 7 * 60  # one default working day, in minutes
#: priority -> (first response, resolution, level 1, level 2, level 3) in working minutes.
DEFAULT_TARGETS = {
    4: (60, DAY, 180, 240, DAY),                          # urgent: 1 h / 1 day
    3: (120, 3 * DAY, DAY, 2 * DAY, 3 * DAY),             # high: 2 h / 3 days
    2: (240, 5 * DAY, 2 * DAY, 3 * DAY, 5 * DAY),         # normal: 4 h / 5 days
    1: (DAY, 10 * DAY, 5 * DAY, 5 * DAY, 10 * DAY),       # low: 1 day / 10 days
}
DEFAULT_WARN_RATIO = 0.75
#: The sweep re-checks tickets whose level time ends within this, to mark warnings.
WARN_LOOKAHEAD = timedelta(days=4)
RUNNING = ("new", "open")
#: The sweep's loaded policies and calendars, reused by the refresh inside escalate().
_SWEEP_CONTEXT: ContextVar[SlaContext | None] = ContextVar("sla_sweep_context", default=None)


# --- policies and calendars ------------------------------------------------------------

def default_policy(priority: int) -> SlaPolicy:
    """An unsaved policy with the built-in targets (used when none is stored)."""
    fr, res, l1, l2, l3 = DEFAULT_TARGETS.get(priority, DEFAULT_TARGETS[2])
    return SlaPolicy(priority=priority, category_id=None, first_response_minutes=fr,
                     resolution_minutes=res, level1_minutes=l1, level2_minutes=l2,
                     level3_minutes=l3, warn_ratio=DEFAULT_WARN_RATIO,
                     action_on_level_breach="escalate")


def seed_default_policies() -> int:
    """Store the default policy of each priority that has none; return how many (idempotent)."""
    have = set(db.session.scalars(select(SlaPolicy.priority)
                                  .where(SlaPolicy.category_id.is_(None))))
    added = [default_policy(p) for p in sorted(DEFAULT_TARGETS) if p not in have]
    db.session.add_all(added)
    db.session.flush()
    return len(added)


def to_clock_policy(row: SlaPolicy) -> clock.Policy:
    return clock.Policy(first_response_minutes=row.first_response_minutes,
                        resolution_minutes=row.resolution_minutes,
                        level_minutes=row.level_minutes, warn_ratio=row.warn_ratio or 0.75)


@dataclass
class SlaContext:
    """Policies and calendars loaded once (three queries) and reused for many tickets."""

    policies: dict[tuple[int, int | None], SlaPolicy]
    hours: dict[int | None, list]
    closures: dict[int | None, set]
    _calendars: dict[int, BusinessCalendar] = field(default_factory=dict)

    @classmethod
    def load(cls) -> SlaContext:
        policies = {(p.priority, p.category_id): p for p in db.session.scalars(select(SlaPolicy))}
        hours: dict[int | None, list] = {}
        for h in db.session.scalars(select(BusinessHours)):
            hours.setdefault(h.unit_id, []).append((h.weekday, h.start_time, h.end_time))
        closures: dict[int | None, set] = {}
        for c in db.session.scalars(select(Closure)):
            closures.setdefault(c.unit_id, set()).add(c.day)
        return cls(policies, hours, closures)

    def policy_for(self, priority: int, category_id: int | None,
                   parent_id: int | None = None) -> SlaPolicy:
        """The category's override, its parent's, the priority's default, the built-in."""
        for key in ((priority, category_id), (priority, parent_id), (priority, None)):
            if key[1] is not None or key == (priority, None):
                if key in self.policies:
                    return self.policies[key]
        return default_policy(priority)

    def calendar_for(self, unit_id: int | None) -> BusinessCalendar:
        if unit_id not in self._calendars:
            rows = self.hours.get(unit_id) or self.hours.get(None) or ()
            days = self.closures.get(None, set()) | self.closures.get(unit_id, set())
            self._calendars[unit_id] = calendar_from_rows(rows, days)
        return self._calendars[unit_id]

    def policy_for_ticket(self, ticket: Ticket) -> SlaPolicy:
        category = ticket.category
        return self.policy_for(ticket.priority, ticket.category_id,
                               category.parent_id if category is not None else None)


# --- one ticket ------------------------------------------------------------------------

def _event_rows(ticket_ids) -> dict[int, list]:
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.field, TicketEvent.old_value,
               TicketEvent.new_value)
        .where(TicketEvent.ticket_id.in_(list(ticket_ids)),
               TicketEvent.field.in_(("status", "level")))
        .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id)).all()
    out: dict[int, list] = {}
    for ticket_id, at, field_, old, new in rows:
        out.setdefault(ticket_id, []).append(clock.Event(at, field_, old, new))
    return out


def clock_events(ticket: Ticket, rows: list[clock.Event]) -> list[clock.Event]:
    """The ticket's history for the clock: its events, its first level, its first response."""
    first_level = next((e.old for e in rows if e.field == "level"), None) or str(ticket.level)
    created = rows[0].at if rows else ticket.created_at
    events = [clock.Event(created, "level", None, first_level), *rows]
    if not any(e.field == "status" for e in rows):
        events.insert(0, clock.Event(ticket.created_at, "status", None, "new"))
    if ticket.first_response_at is not None:
        events.append(clock.Event(ticket.first_response_at, "first_response"))
    return events


def _apply(ticket: Ticket, result: clock.SlaResult) -> None:
    first, resolution = result.first_response, result.resolution
    ticket.first_response_due_at = first.due_at
    ticket.resolution_due_at = resolution.due_at
    ticket.level_due_at = result.level_due_at
    ticket.sla_state = result.state
    ticket.first_response_minutes = None if first.is_running else round(first.elapsed_minutes)
    ticket.resolution_minutes = None if resolution.is_running else round(resolution.elapsed_minutes)
    ticket.first_response_breached = (first.is_breached if not first.is_running
                                      else (True if first.is_breached else None))
    ticket.resolution_breached = (resolution.is_breached if not resolution.is_running
                                  else (True if resolution.is_breached else None))


def _recompute(ticket: Ticket, rows: list[clock.Event], ctx: SlaContext, now: datetime):
    policy = ctx.policy_for_ticket(ticket)
    result = clock.compute(now, clock_events(ticket, rows), ctx.calendar_for(ticket.unit_id),
                           to_clock_policy(policy))
    _apply(ticket, result)
    return result, policy


def refresh_ticket_sla(ticket: Ticket, *, now: datetime,
                       ctx: SlaContext | None = None) -> clock.SlaResult:
    """Recompute the ticket's SLA from its history and store it on the ticket (flush only)."""
    ctx = ctx or _SWEEP_CONTEXT.get() or SlaContext.load()
    db.session.flush()
    result, _ = _recompute(ticket, _event_rows([ticket.id]).get(ticket.id, []), ctx, now)
    db.session.flush()
    return result


# --- the sweep -------------------------------------------------------------------------

@dataclass
class SweepResult:
    checked: int = 0
    escalated: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    notifications: int = 0


def sweep(*, now: datetime, batch_size: int = 500,
          on_batch: Callable[[], None] | None = None) -> SweepResult:
    """Escalate (or warn about) open tickets whose level time has run out; mark warnings.

    Safe to run twice or on two workers: rows are locked (SKIP LOCKED on PostgreSQL) and
    re-checked after recomputing; an escalated ticket has a fresh level clock.
    """
    result = SweepResult()
    ctx = SlaContext.load()
    token = _SWEEP_CONTEXT.set(ctx)
    try:
        _sweep(ctx, now, batch_size, on_batch, result)
    finally:
        _SWEEP_CONTEXT.reset(token)
    log.info("sla sweep: %d checked, %d escalated, %d warned, %d notifications",
             result.checked, len(result.escalated), len(result.warned), result.notifications)
    return result


def _sweep(ctx, now, batch_size, on_batch, result) -> None:
    due = and_(Ticket.status.in_(RUNNING), Ticket.level_due_at <= now)
    for batch in _batches(due, batch_size, on_batch):
        _breach_batch(batch, ctx, now, result)
    soon = and_(Ticket.status.in_(RUNNING), Ticket.sla_state == "ok",
                Ticket.level_due_at > now, Ticket.level_due_at <= now + WARN_LOOKAHEAD)
    for batch in _batches(soon, batch_size, on_batch):
        _warning_batch(batch, ctx, now, result)


def _batches(condition, size, on_batch):
    """Lock and yield batches of matching tickets in (level_due_at, id) order."""
    after = None
    while True:
        stmt = select(Ticket).where(condition).options(joinedload(Ticket.category))
        if after is not None:
            stmt = stmt.where(or_(Ticket.level_due_at > after[0],
                                  and_(Ticket.level_due_at == after[0], Ticket.id > after[1])))
        stmt = stmt.order_by(Ticket.level_due_at, Ticket.id).limit(size)
        if db.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=Ticket)
        tickets = db.session.scalars(stmt).unique().all()
        if not tickets:
            return
        after = (tickets[-1].level_due_at, tickets[-1].id)
        yield tickets
        db.session.flush()
        if on_batch is not None:
            on_batch()
        if len(tickets) < size:
            return


def _breach_batch(tickets, ctx, now, result) -> None:
    from helpdesk.sla import notify

    rows = _event_rows(t.id for t in tickets)
    managers = notify.managers_by_unit({t.unit_id for t in tickets})
    for ticket in tickets:
        result.checked += 1
        sla, policy = _recompute(ticket, rows.get(ticket.id, []), ctx, now)
        level_clock = sla.level_clock
        if ticket.status not in RUNNING or level_clock is None or not level_clock.is_breached:
            continue  # re-check: another sweep or a change got here first
        result.notifications += notify.level_breach(ticket, sla, managers, now=now)
        if policy.action_on_level_breach == "escalate" and _escalate(ticket, sla, now):
            result.escalated.append(ticket.id)
        else:
            result.warned.append(ticket.id)


def _escalate(ticket: Ticket, sla: clock.SlaResult, now: datetime) -> bool:
    from helpdesk.core.errors import Conflict
    from helpdesk.tickets.services import escalate

    reason = (f"Αυτόματη κλιμάκωση: έληξε ο χρόνος του επιπέδου {sla.level} "
              f"({sla.level_clock.target_minutes} λεπτά εργασίας). "
              f"/ Automatic escalation: level {sla.level} time ran out.")
    try:
        with db.session.begin_nested():
            escalate(None, ticket, reason, now=now)
    except Conflict:  # already at the top level: only warn
        return False
    return True


def _warning_batch(tickets, ctx, now, result) -> None:
    from helpdesk.sla import notify

    rows = _event_rows(t.id for t in tickets)
    managers = None
    for ticket in tickets:
        result.checked += 1
        sla, _ = _recompute(ticket, rows.get(ticket.id, []), ctx, now)
        if sla.level_clock is not None and sla.level_clock.is_warning:
            if managers is None:
                managers = notify.managers_by_unit({t.unit_id for t in tickets})
            result.notifications += notify.level_warning(ticket, sla, managers, now=now)


# --- recomputing after a policy or calendar change ---------------------------------------

def recompute_open(*, now: datetime, batch_size: int = 200,
                   on_batch: Callable[[], None] | None = None) -> int:
    """Recompute the stored SLA of every open ticket (after a policy or calendar change).

    The same pure computation as after each ticket change, in id order and batches, with
    the events of a batch loaded in one query; returns how many tickets were recomputed.
    """
    ctx, done, after = SlaContext.load(), 0, 0
    while True:
        tickets = db.session.scalars(
            select(Ticket).where(Ticket.status.in_(("new", "open", "waiting")), Ticket.id > after)
            .options(joinedload(Ticket.category)).order_by(Ticket.id).limit(batch_size)
        ).unique().all()
        if not tickets:
            return done
        rows = _event_rows([t.id for t in tickets])
        for ticket in tickets:
            _recompute(ticket, rows.get(ticket.id, []), ctx, now)
        done, after = done + len(tickets), tickets[-1].id
        db.session.flush()
        if on_batch is not None:
            on_batch()
