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

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, joinedload

from helpdesk.core.refcache import TableCache
from helpdesk.extensions import db
from helpdesk.sla import clock
from helpdesk.sla.calendar import BusinessCalendar, calendar_from_rows
from helpdesk.sla.models import BusinessHours, Closure, SlaPolicy
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.states import OPEN_STATUS_VALUES

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
SWEEP_CONTEXT: ContextVar[SlaContext | None] = ContextVar("sla_sweep_context", default=None)


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
    """Policies and calendars, reused for many tickets.

    ``load()`` costs one statement: the rows themselves are kept per process and read
    again only when the tables' contents change (helpdesk.core.refcache), so a change
    saved by another process is used by the next transaction. Treat the mappings as
    read-only: they are shared by every context built from the same rows.
    """

    policies: dict[tuple[int, int | None], SlaPolicy]
    hours: dict[int | None, tuple]
    closures: dict[int | None, frozenset]
    _calendars: dict[int, BusinessCalendar] = field(default_factory=dict)

    @classmethod
    def load(cls) -> SlaContext:
        return _SETTINGS.get(db.session())

    @classmethod
    def read(cls, session: Session) -> SlaContext:
        """Read the three tables now (three statements); the policies are unsaved copies."""
        policies = {}
        for row in session.execute(select(SlaPolicy.__table__)).mappings():
            policy = SlaPolicy(**row)
            policies[(policy.priority, policy.category_id)] = policy
        hours: dict[int | None, list] = {}
        for unit_id, weekday, start, end in session.execute(
                select(BusinessHours.unit_id, BusinessHours.weekday, BusinessHours.start_time,
                       BusinessHours.end_time).order_by(BusinessHours.id)):
            hours.setdefault(unit_id, []).append((weekday, start, end))
        closures: dict[int | None, set] = {}
        for unit_id, day in session.execute(select(Closure.unit_id, Closure.day)):
            closures.setdefault(unit_id, set()).add(day)
        return cls(policies, {k: tuple(v) for k, v in hours.items()},
                   {k: frozenset(v) for k, v in closures.items()})

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
            days = self.closures.get(None, frozenset()) | self.closures.get(unit_id, frozenset())
            self._calendars[unit_id] = calendar_from_rows(rows, days)
        return self._calendars[unit_id]

    def policy_for_ticket(self, ticket: Ticket) -> SlaPolicy:
        category = ticket.category
        return self.policy_for(ticket.priority, ticket.category_id,
                               category.parent_id if category is not None else None)


#: The SLA tables as last read by this process (see SlaContext.load).
_SETTINGS: TableCache[SlaContext] = TableCache(("sla_policies", "business_hours", "closures"),
                                               SlaContext.read)


# --- one ticket ------------------------------------------------------------------------

def event_rows(ticket_ids) -> dict[int, list]:
    """The status and level events of these tickets as clock events, in order, by ticket
    (one query; the sweep loads a batch's with it)."""
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.field, TicketEvent.old_value,
               TicketEvent.new_value)
        .where(TicketEvent.ticket_id.in_(list(ticket_ids)),
               TicketEvent.field.in_(clock.FIELDS))
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


def apply_result(ticket: Ticket, result: clock.SlaResult) -> None:
    """Store an SLA result on the ticket: due times, state, elapsed minutes, breaches."""
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


def compute(ticket: Ticket, rows: list[clock.Event], ctx: SlaContext, now: datetime):
    """(SLA result, policy) of the ticket from its history, not stored on it."""
    policy = ctx.policy_for_ticket(ticket)
    result = clock.compute(now, clock_events(ticket, rows), ctx.calendar_for(ticket.unit_id),
                           to_clock_policy(policy))
    return result, policy


def recompute(ticket: Ticket, rows: list[clock.Event], ctx: SlaContext, now: datetime):
    """Compute the ticket's SLA from ``rows`` and store it; (result, policy)."""
    result, policy = compute(ticket, rows, ctx, now)
    apply_result(ticket, result)
    return result, policy


def _history(ticket: Ticket, *, stored: bool = True) -> list[clock.Event]:
    """The ticket's status and level events, stored and not yet flushed, in order.

    Read without flushing, so that the change being made and the SLA it leads to reach
    the database in one flush (one UPDATE of the ticket). ``stored=False``: a new ticket,
    whose events are all still in the session."""
    session = db.session()
    rows: list[clock.Event] = []
    if stored and ticket.id is not None and not inspect(ticket).pending:
        with session.no_autoflush:
            rows = event_rows([ticket.id]).get(ticket.id, [])
    rows += [clock.Event(e.at, e.field, e.old_value, e.new_value) for e in session.new
             if isinstance(e, TicketEvent) and e.ticket_id == ticket.id
             and e.field in clock.FIELDS]
    rows.sort(key=lambda e: e.at)  # stable: stored ones by id first, then in the order added
    return rows


def refresh_ticket_sla(ticket: Ticket, *, now: datetime, ctx: SlaContext | None = None,
                       new: bool = False) -> clock.SlaResult:
    """Recompute the ticket's SLA from its history and store it on the ticket (flush only).

    ``new``: the ticket is being filed in this session (nothing of it is stored yet)."""
    ctx = ctx or SWEEP_CONTEXT.get() or SlaContext.load()
    result, _ = recompute(ticket, _history(ticket, stored=not new), ctx, now)
    db.session.flush()
    return result


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
            select(Ticket).where(Ticket.status.in_(OPEN_STATUS_VALUES), Ticket.id > after)
            .options(joinedload(Ticket.category)).order_by(Ticket.id).limit(batch_size)
        ).unique().all()
        if not tickets:
            return done
        rows = event_rows([t.id for t in tickets])
        for ticket in tickets:
            recompute(ticket, rows.get(ticket.id, []), ctx, now)
        done, after = done + len(tickets), tickets[-1].id
        db.session.flush()
        if on_batch is not None:
            on_batch()
