"""SLA warnings and breaches, recorded as events (helpdesk.events.SlaWarning, SlaBreached);
the bus's handlers mail them once per ticket, level stay, kind and recipient."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from helpdesk import bus, events
from helpdesk.accounts.models import UnitMembership, User
from helpdesk.extensions import db
from helpdesk.sla.clock import SlaResult
from helpdesk.tickets.models import Ticket


def managers_by_unit(unit_ids) -> dict[int, list[tuple[str, str | None]]]:
    """(address, language) of each unit's active managers, in one query."""
    rows = db.session.execute(
        select(UnitMembership.unit_id, User.email, User.locale)
        .join(User, User.id == UnitMembership.user_id)
        .where(UnitMembership.unit_id.in_(list(unit_ids)), UnitMembership.is_manager.is_(True),
               User.is_active_account.is_(True))).all()
    out: dict[int, list[tuple[str, str | None]]] = {}
    for unit_id, email, locale in rows:
        out.setdefault(unit_id, []).append((email, locale))
    return out


def level_warning(ticket: Ticket, sla: SlaResult, managers, *, now: datetime) -> int:
    """The level's time is running out: record it (the bus tells the assignee and the
    unit's managers); returns the notifications written."""
    return _handle(events.SlaWarning(ticket, sla.level, sla.level_clock.started_at, now,
                                     sla.level_clock.remaining_minutes or 0, managers))


def level_breach(ticket: Ticket, sla: SlaResult, managers, *, now: datetime) -> int:
    """The level's time has run out: record it; returns the notifications written."""
    return _handle(events.SlaBreached(ticket, sla.level, sla.level_clock.started_at, now,
                                      managers=managers))


def _handle(event) -> int:
    return sum(n for n in bus.handle(event) if isinstance(n, int))
