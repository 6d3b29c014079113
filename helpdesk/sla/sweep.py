"""The SLA escalation sweep: escalate (or warn about) open tickets whose level time ran out.

Run by the ``sla-sweep`` job every few minutes and by ``helpdesk sla sweep``. It works in
batches in (level due time, id) order; for each batch:

- the tickets are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second sweeper
  takes other tickets) and loaded in one query with what the escalation reads (category,
  school, assignee); their status and level events, the school chains and the units'
  managers come in one query each;
- each ticket's SLA is recomputed from that (the stored due time may be stale: a reply,
  a pause) and only a ticket still past its level time is escalated;
- the batch's escalations are written together, in one SAVEPOINT and one flush, through
  ``tickets.services.escalate`` as the system actor (each change audited, the stay
  closed and the next opened), after the breach notifications. Should that fail, the
  SAVEPOINT is rolled back and the batch is done again one ticket at a time through
  ``escalate()``, each in its own SAVEPOINT: a ticket that fails is logged and left for
  the next sweep, the others are kept;
- ``on_batch`` (the job: commit) ends the batch, which also releases its row locks.

Everything here flushes and never commits (the caller's ``on_batch`` does).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from helpdesk.accounts.system import SYSTEM
from helpdesk.core.errors import Conflict
from helpdesk.extensions import db
from helpdesk.org import routing
from helpdesk.org.queries import chains_for_directorates
from helpdesk.sla import clock
from helpdesk.sla import notify as sla_notify
from helpdesk.sla.services import (
    RUNNING,
    SWEEP_CONTEXT,
    WARN_LOOKAHEAD,
    SlaContext,
    apply_result,
    compute,
    event_rows,
    recompute,
)
from helpdesk.sla.wording import escalation_reason
from helpdesk.tickets import services as ticket_services
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.reasons import sla_level_time_out

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    checked: int = 0
    escalated: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    notifications: int = 0
    #: Tickets whose escalation raised an error (logged; the next sweep tries again).
    failed: list[int] = field(default_factory=list)


def sweep(*, now: datetime, batch_size: int = 500,
          on_batch: Callable[[], None] | None = None) -> SweepResult:
    """Escalate (or warn about) open tickets whose level time has run out; mark warnings.

    Safe to run twice or on two workers: rows are locked (SKIP LOCKED on PostgreSQL) and
    re-checked after recomputing; an escalated ticket has a fresh level clock.
    """
    result = SweepResult()
    ctx = SlaContext.load()
    token = SWEEP_CONTEXT.set(ctx)  # escalate()'s SLA refresh reuses the loaded settings
    try:
        due = and_(Ticket.status.in_(RUNNING), Ticket.level_due_at <= now)
        for batch in _batches(due, batch_size, on_batch):
            _breach_batch(batch, ctx, now, result)
        soon = and_(Ticket.status.in_(RUNNING), Ticket.sla_state == "ok",
                    Ticket.level_due_at > now, Ticket.level_due_at <= now + WARN_LOOKAHEAD)
        for batch in _batches(soon, batch_size, on_batch):
            _warning_batch(batch, ctx, now, result)
    finally:
        SWEEP_CONTEXT.reset(token)
    log.info("sla sweep: %d checked, %d escalated, %d warned, %d notifications, %d failed",
             result.checked, len(result.escalated), len(result.warned), result.notifications,
             len(result.failed))
    return result


def _batches(condition, size: int, on_batch) -> Iterator[list[Ticket]]:
    """Lock and yield batches of matching tickets in (level_due_at, id) order."""
    after = None
    while True:
        stmt = (select(Ticket).where(condition)
                .options(joinedload(Ticket.category), joinedload(Ticket.school),
                         joinedload(Ticket.assignee)))
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


def _breach_batch(tickets: list[Ticket], ctx: SlaContext, now: datetime,
                  result: SweepResult) -> None:
    rows = event_rows(t.id for t in tickets)
    managers = sla_notify.managers_by_unit({t.unit_id for t in tickets})
    chains = chains_for_directorates({t.school.directorate_id for t in tickets})
    escalating, warning = [], []
    for ticket in tickets:
        result.checked += 1
        sla, policy = compute(ticket, rows.get(ticket.id, []), ctx, now)
        level_clock = sla.level_clock
        if ticket.status not in RUNNING or level_clock is None or not level_clock.is_breached:
            apply_result(ticket, sla)  # re-check: another sweep or a change got here first
        elif (policy.action_on_level_breach == "escalate"
              and _target(chains[ticket.school.directorate_id], ticket.level) is not None):
            escalating.append((ticket, sla))
        else:
            warning.append((ticket, sla))  # at the top, or the policy only warns
    if escalating:
        try:
            with db.session.begin_nested():
                sent = _escalate_all(escalating, rows, chains, managers, ctx, now)
        except Exception:  # noqa: BLE001 - find the ticket at fault, keep the others
            log.warning("sla sweep: a batch of %d escalations failed; retrying one by one",
                        len(escalating), exc_info=True)
            _escalate_each(escalating, managers, now, result, warning)
        else:
            result.escalated += [t.id for t, _ in escalating]
            result.notifications += sent
    for ticket, sla in warning:
        apply_result(ticket, sla)
        result.notifications += sla_notify.level_breach(ticket, sla, managers, now=now)
        result.warned.append(ticket.id)


def _target(chain: routing.Chain, level: int) -> tuple[int, int] | None:
    """(level, unit) the ticket escalates to; None at the top of its chain."""
    try:
        return routing.escalation_target(chain, level)
    except routing.NoHigherLevel:
        return None


def reason(level: int, target_minutes: int | None) -> str:
    """The reason recorded with an automatic escalation from ``level`` (in Greek)."""
    return escalation_reason(level, target_minutes)


def _reason(sla: clock.SlaResult) -> str:
    return reason(sla.level, sla.level_clock.target_minutes)


def _why(sla: clock.SlaResult) -> dict:
    """The reason as a code, shown in each reader's language (helpdesk.tickets.reasons)."""
    code, params = sla_level_time_out(sla.level, sla.level_clock.target_minutes)
    return {"code": code, "params": params}


def _escalate_all(escalating, rows, chains, managers, ctx: SlaContext, now: datetime) -> int:
    """Escalate the batch's tickets with one flush; return the notifications written.

    Each ticket through ``tickets.services.escalate`` as the system, given the chain the
    batch loaded in one query and without its per-ticket SLA refresh and flush: the new
    SLA comes from the batch's events plus the ones just added, and one flush ends it.
    """
    # first, to the unit and the assignee the ticket is leaving
    sent = sum(sla_notify.level_breach(t, sla, managers, now=now) for t, sla in escalating)
    for ticket, sla in escalating:
        ticket_services.escalate(SYSTEM, ticket, _reason(sla), now=now, **_why(sla),
                 chain=chains[ticket.school.directorate_id], refresh_sla=False)
    added: dict[int, list[clock.Event]] = {}
    for obj in db.session.new:
        if isinstance(obj, TicketEvent) and obj.field in clock.FIELDS:
            added.setdefault(obj.ticket_id, []).append(
                clock.Event(obj.at, obj.field, obj.old_value, obj.new_value))
    for ticket, _ in escalating:
        history = sorted([*rows.get(ticket.id, []), *added.get(ticket.id, [])], key=_at)
        recompute(ticket, history, ctx, now)
    db.session.flush()
    return sent


def _at(event: clock.Event) -> datetime:
    return event.at


def _escalate_each(escalating, managers, now: datetime, result: SweepResult,
                   warning: list) -> None:
    """The slow path: each ticket through escalate() in a SAVEPOINT of its own."""
    for ticket, sla in escalating:
        try:
            with db.session.begin_nested():
                sent = sla_notify.level_breach(ticket, sla, managers, now=now)
                ticket_services.escalate(SYSTEM, ticket, _reason(sla), now=now, **_why(sla))
        except Conflict:  # no higher level after all: only warn
            warning.append((ticket, sla))
        except Exception:  # noqa: BLE001 - one ticket must not stop the sweep
            log.exception("sla sweep: could not escalate ticket %s", ticket.id)
            result.failed.append(ticket.id)
        else:
            result.escalated.append(ticket.id)
            result.notifications += sent


def _warning_batch(tickets: list[Ticket], ctx: SlaContext, now: datetime,
                   result: SweepResult) -> None:
    rows = event_rows(t.id for t in tickets)
    managers = None
    for ticket in tickets:
        result.checked += 1
        sla, _ = compute(ticket, rows.get(ticket.id, []), ctx, now)
        apply_result(ticket, sla)
        if sla.level_clock is not None and sla.level_clock.is_warning:
            if managers is None:
                managers = sla_notify.managers_by_unit({t.unit_id for t in tickets})
            result.notifications += sla_notify.level_warning(ticket, sla, managers, now=now)
