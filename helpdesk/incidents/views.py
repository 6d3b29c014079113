"""Web door to known outages: the public timeline (/incidents), the staff list, declaring
and updating, linking tickets (one, by references, the queue's selection), a school's
"we are affected too", and the report. Every check is helpdesk.permissions'."""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.core.commit import commit_or_flash
from helpdesk.core.errors import NotFound, PermissionDenied
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.incidents import forms, queries, rules, services
from helpdesk.incidents.models import Incident
from helpdesk.permissions import (
    acts_for_school,
    can_link_to_incident,
    can_manage_incidents,
    can_say_affected,
    can_unlink_from_incident,
    can_update_incident,
    can_view_reports,
    school_of,
)
from helpdesk.reports.filters import athens_midnight
from helpdesk.tickets import queries as ticket_queries

bp = Blueprint("incidents", __name__)

#: How many refused references a flash message lists.
_SHOWN = 10


def _incident_or_404(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        abort(404)
    return incident


def _locale() -> str:
    return str(get_locale() or "el")


def _signed_in() -> bool:
    return bool(getattr(current_user, "is_authenticated", False))


# --- the public pages ----------------------------------------------------------------------

@bp.route("/incidents")
def index():
    """Known outages, open first: anyone may read them (no log-in)."""
    f = queries.Filters.from_args(request.args)
    f.scope = f.q = f.month = ""
    rows, more = queries.listing(f)
    return render_template("incidents/index.html", incidents=rows, more=more, filters=f,
                           staff=False, counts={})


@bp.route("/incidents/<int:incident_id>")
def show(incident_id: int):
    incident = _incident_or_404(incident_id)
    updates = queries.timeline(incident.id)
    context = dict(incident=incident, updates=updates,
                   scope_names=queries.scope_names(incident, _locale()))
    if _signed_in():
        context.update(_panels(incident))
    return render_template("incidents/show.html", **context)


def _panels(incident: Incident) -> dict:
    """What the signed-in reader may do on the incident's page."""
    out: dict = {}
    school_id = school_of(current_user)
    if school_id is not None:
        in_scope = services.covers_school(incident, school_id)
        if can_say_affected(current_user, incident, in_scope=in_scope):
            form = forms.AffectedForm()
            form.ticket.choices = [("", _("A new request (nothing to type)"))] + [
                (str(t.id), f"{t.ref} · {t.subject}")
                for t in queries.open_tickets_of_school(school_id)]
            out["affected_form"] = form
        out["mine"] = queries.school_linked_tickets(school_id, incident.id)
    if can_manage_incidents(current_user):
        out["linked"] = queries.linked_tickets(current_user, incident.id)
        out["counts"] = queries.counts([incident.id]).get(incident.id, (0, 0))
        out["unlink_form"] = forms.UnlinkForm()
        if can_update_incident(current_user, incident) and rules.is_open(incident.status):
            form = forms.UpdateForm()
            form.status.data = incident.status
            out["update_form"] = form
        if rules.is_open(incident.status):
            out["link_form"] = forms.LinkRefsForm()
        out["may_unlink"] = {t.id for t in out["linked"]
                             if can_unlink_from_incident(current_user, incident, t)}
    return out


# --- staff ---------------------------------------------------------------------------------

def _require_staff() -> None:
    if not can_manage_incidents(current_user):
        abort(404)


@bp.route("/incidents/manage")
@login_required
def manage():
    _require_staff()
    f = queries.Filters.from_args(request.args)
    rows, more = queries.listing(f)
    return render_template("incidents/index.html", incidents=rows, more=more, filters=f,
                           staff=True, counts=queries.counts(i.id for i in rows))


_CODES = re.compile(r"\d{7}")


@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required
def new():
    _require_staff()
    form = forms.IncidentForm()
    choices = queries.scope_choices(_locale())
    form.regions.choices = choices["regions"]
    form.directorates.choices = choices["directorates"]
    form.partners.choices = choices["partners"]
    form.category.choices = ticket_queries.filter_choices(False)[0]
    ref = request.values.get("ticket", "")
    ticket = ticket_queries.get_visible_ticket(current_user, ref) if ref else None
    if ref and ticket is None:
        abort(404)
    if request.method == "GET" and ticket is not None:
        form.title.data = ticket.subject
        form.body.data = ticket.description[:5000]
        form.category.data = ticket.category_id
        form.ticket.data = ticket.ref
        form.scope_kind.data = "schools"
        form.schools.data = ticket.school.code
    if form.validate_on_submit():
        kind = form.scope_kind.data
        unknown: list[str] = []
        if kind == "schools":
            ids, unknown = queries.school_ids_by_code(_CODES.findall(form.schools.data or ""))
        else:
            ids = {"regions": form.regions.data, "directorates": form.directorates.data,
                   "partners": form.partners.data}.get(kind) or []
        if unknown:
            flash(_("Unknown school codes: %(codes)s", codes=", ".join(unknown[:_SHOWN])),
                  "error")
            return render_template("incidents/new.html", form=form, ticket=ticket), 422

        def write():
            return services.open_incident(
                current_user, title=form.title.data, body=form.body.data, scope_kind=kind,
                scope_ids=ids, category=services.get_category(form.category.data),
                now=utcnow(), from_ticket=ticket).id

        outcome = commit_or_flash(write, done=_("The outage was declared."),
                                  abort_on=(NotFound,))
        if outcome:
            return redirect(url_for("incidents.show", incident_id=outcome.value))
        return render_template("incidents/new.html", form=form, ticket=ticket), \
            outcome.error.status
    return render_template("incidents/new.html", form=form, ticket=ticket), \
        (422 if form.is_submitted() else 200)


def _back(incident_id: int):
    return redirect(url_for("incidents.show", incident_id=incident_id))


def _flash_errors(form) -> None:
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        flash(f"{label}: {errors[0]}", "error")


@bp.route("/incidents/<int:incident_id>/update", methods=["POST"])
@login_required
def update(incident_id: int):
    _require_staff()
    incident = _incident_or_404(incident_id)
    if not can_update_incident(current_user, incident):
        abort(403)
    form = forms.UpdateForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(incident.id)
    commit_or_flash(lambda: services.post_update(current_user, incident, body=form.body.data,
                                                 status=form.status.data, now=utcnow()),
                    done=_("The update was posted; the linked requests receive it now."))
    return _back(incident_id)


def _report_links(result: services.LinkResult) -> str:
    text = _("Linked: %(n)s.", n=len(result.linked))
    if result.already:
        text += " " + _("Already linked: %(n)s.", n=len(result.already))
    if result.refused:
        text += " " + _("Not linked: %(list)s", list="; ".join(
            f"{ref} ({why})" for ref, why in result.refused[:_SHOWN]))
        if len(result.refused) > _SHOWN:
            text += " …"
    return text


@bp.route("/incidents/<int:incident_id>/link", methods=["POST"])
@login_required
def link(incident_id: int):
    _require_staff()
    incident = _incident_or_404(incident_id)
    form = forms.LinkRefsForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(incident.id)
    commit_or_flash(lambda: services.link_refs(current_user, incident, form.refs.data,
                                               now=utcnow()), done=_report_links)
    return _back(incident_id)


@bp.route("/incidents/<int:incident_id>/unlink", methods=["POST"])
@login_required
def unlink(incident_id: int):
    _require_staff()
    incident = _incident_or_404(incident_id)
    form = forms.UnlinkForm()
    if not form.validate_on_submit():
        abort(400)
    ticket = ticket_queries.get_visible_ticket(current_user, form.ref.data)
    if ticket is None:
        abort(404)
    commit_or_flash(lambda: services.unlink(current_user, incident, ticket, now=utcnow()),
                    done=_("The request was unlinked from the outage."),
                    abort_on=(NotFound, PermissionDenied))
    return redirect(request.form.get("next") == "ticket"
                    and url_for("tickets.show", ref=ticket.ref) or url_for(
                        "incidents.show", incident_id=incident_id))


@bp.route("/incidents/<int:incident_id>/affected", methods=["POST"])
@login_required
def affected(incident_id: int):
    incident = _incident_or_404(incident_id)
    if not acts_for_school(current_user):
        abort(403)
    form = forms.AffectedForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = None
    if form.ticket.data:
        if not str(form.ticket.data).isdigit():
            abort(400)
        chosen = next((t for t in queries.open_tickets_of_school(current_user.school_id)
                       if t.id == int(form.ticket.data)), None)
        if chosen is None:
            abort(404)
    outcome = commit_or_flash(
        lambda: services.say_affected(current_user, incident, now=utcnow(), ticket=chosen).ref,
        done=lambda ref: _("Your request %(ref)s is linked to the outage; you will be told "
                           "of every update.", ref=ref),
        abort_on=(NotFound, PermissionDenied))
    if outcome:
        return redirect(url_for("tickets.show", ref=outcome.value))
    return _back(incident_id)


@bp.route("/tickets/<ref>/incident", methods=["POST"])
@login_required
def link_ticket(ref: str):
    """The ticket page's "link to a known outage"."""
    ticket = ticket_queries.get_visible_ticket(current_user, ref)
    if ticket is None:
        abort(404)
    _require_staff()
    form = forms.TicketLinkForm()
    if not form.validate_on_submit():
        abort(400)
    incident = db.session.get(Incident, form.incident.data) if form.incident.data else None
    if incident is None:
        abort(404)
    if not can_link_to_incident(current_user, incident, ticket):
        abort(403)
    commit_or_flash(lambda: services.link(current_user, incident, [ticket], now=utcnow()),
                    done=_report_links)
    return redirect(url_for("tickets.show", ref=ticket.ref))


@bp.route("/incidents/link-selected", methods=["POST"])
@login_required
def link_selected():
    """The queue's "link the selected requests to an outage"."""
    _require_staff()
    # Posted by its own form, or by the queue's bulk-actions form (one set of checkboxes,
    # ``ticket_ids``, and that form's token: CSRFProtect has checked it for every POST).
    form = forms.QueueLinkForm(meta={"csrf": False})
    if not form.ticket.data and request.form.getlist("ticket_ids"):
        form.ticket.data = [int(v) for v in request.form.getlist("ticket_ids")
                            if v.isdigit() and len(v) < 10]
    if not form.validate_on_submit() or not form.ticket.data:
        flash(_("Choose an outage and at least one request."), "error")
        return redirect(request.referrer or url_for("tickets.queue"))
    incident = _incident_or_404(form.incident.data)
    commit_or_flash(lambda: services.bulk_link(current_user, incident, form.ticket.data,
                                               now=utcnow()), done=_report_links)
    return redirect(url_for("incidents.show", incident_id=incident.id))


# --- the report ----------------------------------------------------------------------------

def _last_months(today: date, n: int = 12):
    out = []
    year, month = today.year, today.month
    for _i in range(n):
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
        out.append((f"{year:04d}-{month:02d}", athens_midnight(start), athens_midnight(end)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(out))


@bp.route("/reports/incidents")
@login_required
def report():
    if not can_view_reports(current_user):
        abort(404)
    rows = queries.report(_last_months(utcnow().date()))
    return render_template("incidents/report.html", rows=rows)


# --- what other pages show of incidents (the filing page, the ticket page, the queue) ---------

def banner_context(school_id: int | None) -> dict:
    """The open incidents of a school's scope, for the banner of its filing page and list."""
    return {"outages": queries.open_for_school(school_id) if school_id else []}


def ticket_context(ticket) -> dict:
    """The ticket page's outage panel: the incident it is linked to, or the outages it may
    be linked to."""
    staff = can_manage_incidents(current_user)
    incident, choices = queries.for_ticket_page(ticket.id, with_open=staff)
    out: dict = {"ticket_incident": incident}
    if not staff:
        return out
    if incident is not None:
        out["incident_unlink_form"] = forms.UnlinkForm(ref=ticket.ref) if \
            can_unlink_from_incident(current_user, incident, ticket) else None
        return out
    if choices and can_link_to_incident(current_user, choices[0], ticket):
        form = forms.TicketLinkForm()
        form.incident.choices = [(i.id, f"#{i.id} · {i.title}") for i in choices]
        out["incident_link_form"] = form
    out["may_declare_incident"] = True
    return out


def queue_context() -> dict:
    """The queue's "link selected to an outage" form (staff, while an outage is open)."""
    if not can_manage_incidents(current_user):
        return {}
    choices = queries.open_incidents()
    if not choices:
        return {}
    form = forms.QueueLinkForm()
    form.incident.choices = [(i.id, f"#{i.id} · {i.title}") for i in choices]
    return {"incident_queue_form": form}
