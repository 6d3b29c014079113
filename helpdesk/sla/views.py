"""SLA on the web and the command line: the queues' time-left helper, ``helpdesk sla``."""
from __future__ import annotations

import click
from flask import Blueprint, g
from flask_babel import gettext as _

from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.sla.calendar import working_minutes

bp = Blueprint("sla", __name__, cli_group="sla")


def _context():
    """Policies and calendars, loaded once per request (constant queries per page)."""
    from helpdesk.sla.services import SlaContext

    if "sla_context" not in g:
        g.sla_context = SlaContext.load()
    return g.sla_context


@bp.app_template_global()
def sla_time_left(ticket) -> dict | None:
    """Working time left to the ticket's level due time: minutes, label and CSS class."""
    due = ticket.level_due_at
    if due is None or ticket.status not in ("new", "open", "waiting"):
        return None
    calendar = _context().calendar_for(ticket.unit_id)
    now = utcnow()
    minutes = (working_minutes(calendar, now, due) if due > now
               else -working_minutes(calendar, due, now))
    state = ticket.sla_state
    if minutes <= 0 or state == "breached":
        css = "sla-breached"
    elif state == "paused":
        css = "sla-paused"
    elif state == "warning" or minutes <= 60:
        css = "sla-warning"
    else:
        css = "sla-ok"
    return {"minutes": minutes, "label": format_minutes(minutes), "css": css,
            "paused": state == "paused"}


def format_minutes(minutes: float) -> str:
    """Working time as "1 d 3 h 05 m" (a working day is 7 hours); negative when overdue."""
    sign = "−" if minutes < 0 else ""
    total = int(abs(minutes))
    days, rest = divmod(total, 7 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return sign + _("%(d)d d %(h)d h", d=days, h=hours)
    if hours:
        return sign + _("%(h)d h %(m)02d m", h=hours, m=mins)
    return sign + _("%(m)d m", m=mins)


@bp.cli.command("seed")
def seed_command():
    """Store the default SLA policies (idempotent)."""
    from helpdesk.sla.services import seed_default_policies

    added = seed_default_policies()
    db.session.commit()
    click.echo(f"{added} SLA policies added")


@bp.cli.command("sweep")
def sweep_command():
    """Run the SLA escalation sweep once, now."""
    from helpdesk.sla.services import sweep

    result = sweep(now=utcnow(), on_batch=db.session.commit)
    db.session.commit()
    click.echo(f"checked {result.checked}, escalated {len(result.escalated)}, "
               f"warned {len(result.warned)}, notifications {result.notifications}")
