"""/admin/organisation: the support units, a school's chain, and a directorate's partner
changed after a preview of the open requests it affects."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from helpdesk import permissions
from helpdesk.accounts.models import UnitMembership
from helpdesk.core.display import localized_by_id
from helpdesk.core.errors import DomainError
from helpdesk.core.text import like_pattern, sort_key
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.org import admin
from helpdesk.org.forms import PartnerForm
from helpdesk.org.models import Directorate, PartnerArea, School, SupportUnit
from helpdesk.org.queries import chains_for_directorates
from helpdesk.tickets.queries import open_tickets_of_directorate

bp = Blueprint("organisation", __name__, url_prefix="/admin/organisation")
SCHOOLS_SHOWN = 20


@bp.before_request
@login_required
def _guard():
    if not permissions.can_view_organisation(current_user):
        abort(404)


def _units() -> tuple[list[SupportUnit], dict[int, str]]:
    units = list(db.session.scalars(select(SupportUnit)))
    names = localized_by_id(units)
    units.sort(key=lambda u: (u.level, sort_key(names[u.id])))
    return units, names


def _partner_form(units, names) -> PartnerForm:
    form = PartnerForm()
    directorates = db.session.scalars(select(Directorate)).all()
    form.directorate.choices = sorted(((d.id, d.name_el) for d in directorates),
                                      key=lambda c: sort_key(c[1]))
    form.unit.choices = [(u.id, names[u.id]) for u in units if u.level == 2]
    return form


def _schools(term: str) -> list[tuple[School, Directorate, list]]:
    """Schools by code or accent-insensitive name, each with its directorate and chain."""
    term = term.strip()[:100]
    if not term:
        return []
    schools = db.session.scalars(
        select(School).where(or_(School.code == term,
                                 School.name_folded.like(like_pattern(term), escape="\\")))
        .order_by(School.name_folded).limit(SCHOOLS_SHOWN)).all()
    chains = chains_for_directorates({s.directorate_id for s in schools})
    directorates = {d.id: d for d in db.session.scalars(
        select(Directorate).where(Directorate.id.in_(chains)))}
    return [(s, directorates[s.directorate_id], chains[s.directorate_id]) for s in schools]


@bp.route("")
def index():
    units, names = _units()
    members = dict(db.session.execute(
        select(UnitMembership.unit_id, func.count()).group_by(UnitMembership.unit_id)).all())
    areas = dict(db.session.execute(
        select(PartnerArea.unit_id, func.count()).group_by(PartnerArea.unit_id)).all())
    term = request.args.get("school", "")
    return render_template("org/index.html", units=units, names=names, members=members,
                           areas=areas, term=term, schools=_schools(term),
                           form=_partner_form(units, names)
                           if permissions.can_change_partner(current_user) else None)


def _impact(directorate_id: int, current_id: int | None) -> dict[str, dict[str, int]]:
    """Open requests of the directorate by status: at its current partner now, and at its
    level 1 (whose next escalation goes to the new partner)."""
    out = {"at_partner": {}, "at_level1": {}}
    for (level, unit_id, status), count in open_tickets_of_directorate(directorate_id).items():
        key = "at_partner" if level == 2 and unit_id == current_id else \
            "at_level1" if level == 1 else None
        if key:
            out[key][status] = out[key].get(status, 0) + count
    return out


@bp.route("/partner/preview", methods=["POST"])
def preview_partner():
    if not permissions.can_change_partner(current_user):
        abort(403)
    units, names = _units()
    form = _partner_form(units, names)
    if not form.validate_on_submit():
        flash(_("Pick a directorate and a partner."), "error")
        return redirect(url_for("organisation.index"))
    directorate = db.session.get(Directorate, form.directorate.data)
    area = db.session.get(PartnerArea, directorate.id)
    current_id = area.unit_id if area else None
    form.current.data = str(current_id or "")
    return render_template("org/preview.html", form=form, directorate=directorate,
                           current=names.get(current_id), new=names[form.unit.data],
                           same=current_id == form.unit.data,
                           impact=_impact(directorate.id, current_id))


@bp.route("/partner/apply", methods=["POST"])
def apply_partner():
    if not permissions.can_change_partner(current_user):
        abort(403)
    units, names = _units()
    form = _partner_form(units, names)
    if not form.validate_on_submit():
        abort(400)
    area = db.session.get(PartnerArea, form.directorate.data)
    if str(area.unit_id if area else "") != (form.current.data or ""):
        flash(_("The partner was changed meanwhile: look at the preview again."), "error")
        return redirect(url_for("organisation.index"))
    try:
        admin.change_partner(current_user, form.directorate.data, form.unit.data, now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("organisation.index"))
    db.session.commit()
    flash(_("The partner was changed."), "success")
    return redirect(url_for("organisation.index"))
