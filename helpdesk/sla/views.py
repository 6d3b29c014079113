"""SLA on the web and the command line: the queues' time-left helper, the administrator's
pages under /admin/sla, ``helpdesk sla``."""
from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta
from functools import lru_cache

import click
from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.audit.queries import recent
from helpdesk.core import aftercommit
from helpdesk.core.display import PRIORITY_LABELS, localized
from helpdesk.core.errors import ValidationFailed
from helpdesk.core.localtime import zone
from helpdesk.core.text import sort_key
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.org.models import Category, SupportUnit
from helpdesk.permissions import admin_only
from helpdesk.sla import admin, changes
from helpdesk.sla.admin import PRIORITIES
from helpdesk.sla.calendar import working_minutes
from helpdesk.sla.forms import WEEKDAYS, ClosureForm, HoursForm, OverrideForm, PolicyForm
from helpdesk.sla.services import SlaContext, default_policy, seed_default_policies
from helpdesk.sla.sweep import sweep

log = logging.getLogger(__name__)
_MINUTE = timedelta(minutes=1)
bp = Blueprint("sla", __name__, cli_group="sla")


def _context():
    """Policies and calendars, loaded once per request (constant queries per page)."""
    if "sla_context" not in g:
        g.sla_context = SlaContext.load()
    return g.sla_context


def time_left(tickets, now=None) -> dict[int, dict | None]:
    """``sla_time_left`` of many tickets at once (a queue page), keyed by ticket id.

    The labels are translated once, and each calendar's working minutes are summed once
    per day for the whole page (``WorkingClock``), not once per ticket and day.
    """
    now = now or utcnow()
    context, clocks, out = None, {}, {}
    labels = None
    for ticket in tickets:
        due = ticket.level_due_at
        if due is None or ticket.status not in ("new", "open", "waiting"):
            out[ticket.id] = None
            continue
        if context is None:
            context, labels = _context(), _MinuteLabels()
        clock = clocks.get(ticket.unit_id)
        if clock is None:
            clock = clocks[ticket.unit_id] = working_clock(context.calendar_for(ticket.unit_id))
        minutes = clock.minutes(now, due) if due > now else -clock.minutes(due, now)
        state = ticket.sla_state
        if minutes <= 0 or state == "breached":
            css = "sla-breached"
        elif state == "paused":
            css = "sla-paused"
        elif state == "warning" or minutes <= 60:
            css = "sla-warning"
        else:
            css = "sla-ok"
        out[ticket.id] = {"minutes": minutes, "label": labels.format(minutes), "css": css,
                          "paused": state == "paused"}
    return out


class WorkingClock:
    """``working_minutes`` of one calendar with each day's working time and their running
    total computed once (per process): an overdue ticket from last year costs two look-ups,
    not a walk over every day since. Exact: it adds the same windows as working_time."""

    def __init__(self, calendar):
        self.calendar = calendar
        self._tz = calendar.tz
        self._lock = threading.Lock()
        self._origin: date | None = None
        self._before: list[timedelta] = []  # working time from the origin to each day's start

    def _cover(self, first: date, last: date) -> None:
        """Make the running totals reach from before ``first`` to ``last`` (lock held)."""
        if self._origin is None or first < self._origin:
            if self._origin is not None:
                last = max(last, self._origin + timedelta(days=len(self._before) - 1))
            self._origin, self._before = first - timedelta(days=7), [timedelta(0)]
        while (last - self._origin).days >= len(self._before):
            day = self._origin + timedelta(days=len(self._before) - 1)
            self._before.append(self._before[-1] + sum(
                (hi - lo for lo, hi in self.calendar.windows(day)), timedelta(0)))

    def _part(self, day: date, instant: datetime) -> timedelta:
        """Working time of ``day`` before ``instant``."""
        return sum((min(hi, instant) - lo for lo, hi in self.calendar.windows(day) if lo < instant),
                   timedelta(0))

    def minutes(self, start: datetime, end: datetime) -> float:
        """Working minutes from ``start`` to ``end`` (0 when end is not after start).

        A day's windows lie inside that local day, so the days between count whole (the
        running totals) and only the two ends' days in part."""
        if end <= start:
            return 0.0
        if end - start <= timedelta(days=3):
            return working_minutes(self.calendar, start, end)
        a, b = start.astimezone(self._tz).date(), end.astimezone(self._tz).date()
        with self._lock:
            self._cover(a, b)
            whole = self._before[(b - self._origin).days] - self._before[(a - self._origin).days]
        return (whole + self._part(b, end) - self._part(a, start)) / _MINUTE


@lru_cache(maxsize=64)
def working_clock(calendar) -> WorkingClock:
    """The process's WorkingClock of a calendar (calendars are immutable values)."""
    return WorkingClock(calendar)


class _MinuteLabels:
    """``format_minutes`` with its three patterns translated once."""

    def __init__(self):
        self.days, self.hours, self.mins = (_("%(d)d d %(h)d h"), _("%(h)d h %(m)02d m"),
                                            _("%(m)d m"))

    def format(self, minutes: float) -> str:
        sign = "−" if minutes < 0 else ""
        total = int(abs(minutes))
        days, rest = divmod(total, 7 * 60)
        hours, mins = divmod(rest, 60)
        if days:
            return sign + self.days % {"d": days, "h": hours}
        if hours:
            return sign + self.hours % {"h": hours, "m": mins}
        return sign + self.mins % {"m": mins}


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
    added = seed_default_policies()
    db.session.commit()
    click.echo(f"{added} SLA policies added")


@bp.cli.command("sweep")
def sweep_command():
    """Run the SLA escalation sweep once, now."""
    result = sweep(now=utcnow(), on_batch=db.session.commit)
    db.session.commit()
    click.echo(f"checked {result.checked}, escalated {len(result.escalated)}, "
               f"warned {len(result.warned)}, notifications {result.notifications}")


# --- the administrator's pages -----------------------------------------------------------

def _commit_and_recompute() -> None:
    """Commit an SLA setting, then recompute the open tickets' due times in a job."""
    aftercommit.after_commit(aftercommit.Job(
        "bulk", "workers.jobs.sla_recompute_open", owner=__name__,
        what="SLA recomputation of open tickets",
        fallback="the due times follow at each ticket's next change"))
    db.session.commit()



def _hours(minutes: int | None) -> str:
    """Working minutes shown as working hours in the reader's number format ("7", "1,5",
    "0,33" in Greek); "—" for no target."""
    if minutes is None:
        return "—"
    return format_decimal(round(minutes / 60, 2), format="#,##0.##")


def _refused(form, exc: ValidationFailed) -> None:
    """Show a service's refusal next to its field (or as a message), and undo the writes."""
    db.session.rollback()
    name = getattr(form, "ERROR_FIELDS", {}).get(exc.field, exc.field)
    if name in form:
        form[name].errors = [*form[name].errors, str(exc)]
    flash(str(exc), "error")


def _unit_choices() -> list[tuple[str, str]]:
    units = db.session.scalars(select(SupportUnit))
    labelled = sorted(((u.level, str(u.id), f"{localized(u)} ({u.code})") for u in units),
                      key=lambda r: (r[0], sort_key(r[2])))
    return [("", _("All units (default)"))] + [(id_, label) for _lv, id_, label in labelled]


def _unit_names(choices) -> dict:
    return {(int(key) if key else None): label for key, label in choices}


def _category_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Category).order_by(Category.code))
    return [("", "—")] + [(str(c.id), f"{c.code} — {localized(c)}") for c in rows]


def _priority_choices():
    return [(p, PRIORITY_LABELS[p]) for p in reversed(PRIORITIES)]


@bp.route("/admin/sla")
@admin_only
def admin_index():
    return render_template("sla/index.html", defaults=admin.default_policies(),
                           overrides=admin.overrides(), hours=_hours,
                           changes=changes.describe(recent("sla.")))


@bp.route("/admin/sla/policies/<int:priority>", methods=["GET", "POST"])
@admin_only
def admin_policy(priority: int):
    current = dict((p.priority, p) for p, _stored in admin.default_policies())
    if priority not in current:
        return render_template("error.html", code=404, title=_("Not found"), text=""), 404
    form = PolicyForm()
    if form.validate_on_submit():
        try:
            admin.save_default_policy(current_user, priority, form.targets(), now=utcnow())
        except ValidationFailed as exc:
            _refused(form, exc)
        else:
            _commit_and_recompute()
            flash(_("The policy was saved."), "success")
            return redirect(url_for("sla.admin_index"))
    elif not form.is_submitted():
        form.fill(current[priority])
    return render_template("sla/policy.html", form=form, priority=priority, override=None,
                           category=None)


@bp.route("/admin/sla/overrides/new", methods=["GET", "POST"])
@admin_only
def admin_override_new():
    form = OverrideForm()
    form.priority.choices = _priority_choices()
    form.category_id.choices = _category_choices()
    if form.validate_on_submit():
        try:
            admin.save_override(current_user, form.priority.data, form.category_id.data,
                                form.targets(), now=utcnow())
        except ValidationFailed as exc:
            _refused(form, exc)
        else:
            _commit_and_recompute()
            flash(_("The override was saved."), "success")
            return redirect(url_for("sla.admin_index"))
    elif not form.is_submitted():
        form.fill(default_policy(2))
    return render_template("sla/policy.html", form=form, priority=None, override=None,
                           category=None)


@bp.route("/admin/sla/overrides/<int:policy_id>", methods=["GET", "POST"])
@admin_only
def admin_override(policy_id: int):
    policy = admin.get_override(policy_id)  # NotFound → 404
    form = PolicyForm()
    if form.validate_on_submit():
        try:
            admin.update_override(current_user, policy_id, form.targets(), now=utcnow())
        except ValidationFailed as exc:
            _refused(form, exc)
        else:
            _commit_and_recompute()
            flash(_("The override was saved."), "success")
            return redirect(url_for("sla.admin_index"))
    elif not form.is_submitted():
        form.fill(policy)
    return render_template("sla/policy.html", form=form, priority=policy.priority,
                           override=policy, category=admin.category_of(policy))


@bp.route("/admin/sla/overrides/<int:policy_id>/delete", methods=["POST"])
@admin_only
def admin_override_delete(policy_id: int):
    admin.delete_override(current_user, policy_id, now=utcnow())
    _commit_and_recompute()
    flash(_("The override was removed."), "success")
    return redirect(url_for("sla.admin_index"))


@bp.route("/admin/sla/hours", methods=["GET", "POST"])
@admin_only
def admin_hours():
    form = HoursForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        try:
            admin.add_hours(current_user, form.unit_id.data, form.weekday.data,
                            form.start_time.data, form.end_time.data, now=utcnow())
        except ValidationFailed as exc:
            _refused(form, exc)
        else:
            _commit_and_recompute()
            flash(_("The working hours were added."), "success")
            return redirect(url_for("sla.admin_hours"))
    return render_template("sla/hours.html", form=form, rows=admin.hours_rows(),
                           weekdays=dict(WEEKDAYS), units=_unit_names(form.unit_id.choices))


@bp.route("/admin/sla/hours/<int:hours_id>/delete", methods=["POST"])
@admin_only
def admin_hours_delete(hours_id: int):
    admin.delete_hours(current_user, hours_id, now=utcnow())
    _commit_and_recompute()
    flash(_("The working hours were removed."), "success")
    return redirect(url_for("sla.admin_hours"))


@bp.route("/admin/sla/closures", methods=["GET", "POST"])
@admin_only
def admin_closures():
    form = ClosureForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        try:
            admin.add_closure(current_user, form.day.data, form.unit_id.data,
                              form.description.data, now=utcnow())
        except ValidationFailed as exc:
            _refused(form, exc)
        else:
            _commit_and_recompute()
            flash(_("The closure was added."), "success")
            return redirect(url_for("sla.admin_closures"))
    today = utcnow().astimezone(zone()).date()
    return render_template("sla/closures.html", form=form, rows=admin.closures(today),
                           today=today, units=_unit_names(form.unit_id.choices))


@bp.route("/admin/sla/closures/<int:closure_id>/delete", methods=["POST"])
@admin_only
def admin_closure_delete(closure_id: int):
    admin.delete_closure(current_user, closure_id, now=utcnow())
    _commit_and_recompute()
    flash(_("The closure was removed."), "success")
    return redirect(url_for("sla.admin_closures"))
