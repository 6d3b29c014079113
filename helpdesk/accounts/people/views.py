"""/admin/people: the people list, a person's page, and the changes made there.

Administrators see everyone; a unit manager the people of their units; a school account
the co-users of its school (its teachers). Every change goes through a writer of
helpdesk.accounts.services with the actor, which asks helpdesk.permissions and audits.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk import permissions
from helpdesk.accounts.models import User
from helpdesk.accounts.people import services as people_services
from helpdesk.accounts.people.forms import ActionForm, MembershipForm, NewPersonForm, PersonForm
from helpdesk.accounts.queries import PAGE_SIZE, PeopleFilter, list_people
from helpdesk.audit.queries import for_object
from helpdesk.core.display import ROLE_LABELS, localized_by_id
from helpdesk.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from helpdesk.core.text import sort_key
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit

bp = Blueprint("people", __name__, url_prefix="/admin/people")


@bp.before_request
@login_required
def _guard():
    if not permissions.can_manage_people(current_user):
        abort(404)


def _units_for(actor) -> list[SupportUnit]:
    """The units the actor may pick (filters, memberships): all, or their own."""
    stmt = select(SupportUnit)
    if not permissions.is_administrator(actor):
        stmt = stmt.where(SupportUnit.id.in_(sorted(actor.unit_ids)))
    return list(db.session.scalars(stmt))


def _unit_choices(actor, blank: str | None = None) -> list[tuple[str, str]]:
    units = _units_for(actor)
    names = localized_by_id(units)
    choices = sorted(((str(u.id), f"{names[u.id]} ({u.level})") for u in units),
                     key=lambda c: (sort_key(c[1])))
    return ([("", blank)] if blank is not None else []) + choices


def _role_choices(actor) -> list[tuple[str, str]]:
    return [(r, str(ROLE_LABELS[r])) for r in permissions.grantable_roles(actor)]


def _person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if not permissions.can_view_person(current_user, person):
        raise NotFound()
    return person


def _school(code: str | None) -> School | None:
    """The school a form names: a school account's own, else by its code."""
    if permissions.acts_for_school(current_user):
        return current_user.school
    if not code:
        return None
    school = db.session.scalar(select(School).where(School.code == code))
    if school is None:
        raise ValidationFailed("school_code", "No school has this code.")
    return school


def _done(message: str, user_id: int):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("people.show", user_id=user_id))


def _refused(exc: DomainError, user_id: int | None = None):
    db.session.rollback()
    if isinstance(exc, (PermissionDenied, NotFound)):
        raise exc
    flash(str(exc), "error")
    return redirect(url_for("people.show", user_id=user_id) if user_id else url_for("people.index"))


#: What each audit action on a person is called on their page.
AUDIT_LABELS = {
    "accounts.user.create": _l("Account created"), "accounts.user.update": _l("Details changed"),
    "accounts.user.membership": _l("Support units changed"),
    "accounts.user.deactivate": _l("Deactivated"), "accounts.user.reactivate": _l("Reactivated"),
    "accounts.password.change": _l("Password changed"),
    "accounts.password.reset": _l("Password set through an e-mail link"),
}
FIELD_LABELS = {"name": _l("Name"), "email": _l("E-mail"), "role": _l("Role"),
                "school_id": _l("School"), "locale": _l("Language"), "is_active": _l("Active"),
                "units": _l("Support units")}


def _history(person: User) -> tuple[list, dict]:
    """The person's audit entries, and a function giving each one's changed fields as
    (label, before, after) in words."""
    entries = for_object("user", person.id)
    unit_ids, school_ids = set(), set()
    for e in entries:
        for side in (e.before or {}, e.after or {}):
            unit_ids |= {int(u) for u in side.get("units", {})}
            if side.get("school_id"):
                school_ids.add(side["school_id"])
    units = localized_by_id(db.session.scalars(select(SupportUnit).where(SupportUnit.id.in_(unit_ids))))
    schools = dict(db.session.execute(select(School.id, School.name).where(School.id.in_(school_ids))).all())

    def word(key, value):
        if value is None or value == {}:
            return "—"
        if key == "units":
            return ", ".join(units.get(int(u), u) + (f" ({_('manager')})" if flag else "")
                             for u, flag in value.items())
        if key == "role":
            return str(ROLE_LABELS.get(value, value))
        if key == "school_id":
            return schools.get(value, value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        return str(value)

    def changes(entry):
        before, after = entry.before or {}, entry.after or {}
        if entry.action.startswith("accounts.password."):
            return []
        return [(str(FIELD_LABELS.get(k, k)), word(k, before.get(k)), word(k, after.get(k)))
                for k in FIELD_LABELS if before.get(k) != after.get(k)]

    return entries, changes


@bp.route("")
def index():
    f = PeopleFilter(q=request.args.get("q", "")[:100], role=request.args.get("role", ""),
                     unit_id=request.args.get("unit", type=int),
                     active={"1": True, "0": False}.get(request.args.get("active", "")))
    page = max(1, min(request.args.get("page", 1, type=int), 100_000))
    people, total = list_people(permissions.people_scope(current_user), f, page=page)
    return render_template("people/index.html", people=people, total=total, f=f, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)),
                           units=_unit_choices(current_user, _("Every unit")),
                           roles=[("", _("Every role"))] + [(k, str(v)) for k, v in ROLE_LABELS.items()])


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewPersonForm()
    form.role.choices = _role_choices(current_user)
    form.unit.choices = _unit_choices(current_user, "—")
    if form.validate_on_submit():
        units = {int(form.unit.data): form.is_manager.data} if form.unit.data else {}
        try:
            person = people_services.create_person(
                current_user, email=form.email.data, name=form.name.data, role=form.role.data,
                school=_school(form.school_code.data), units=units, locale=form.locale.data,
                send_invite=form.send_invite.data, now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            if isinstance(exc, (PermissionDenied, NotFound)):
                raise
            flash(str(exc), "error")
        else:
            return _done(_("The account was created."), person.id)
    return render_template("people/new.html", form=form)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def show(user_id: int):
    person = _person(user_id)
    form = PersonForm(obj=person, school_code=person.school.code if person.school else "")
    roles = dict(_role_choices(current_user))
    roles.setdefault(person.role, str(ROLE_LABELS[person.role]))  # shown, not grantable
    form.role.choices = list(roles.items())
    if form.validate_on_submit():
        if not permissions.can_edit_person(current_user, person):
            raise PermissionDenied()
        try:
            people_services.update_person(current_user, person, name=form.name.data,
                                   email=form.email.data, role=form.role.data,
                                   school=_school(form.school_code.data),
                                   locale=form.locale.data, now=utcnow())
        except DomainError as exc:
            return _refused(exc, user_id)
        return _done(_("The changes were saved."), user_id)
    membership = MembershipForm()
    membership.unit.choices = _unit_choices(current_user)
    history, changes = _history(person)
    return render_template("people/show.html", person=person, form=form,
                           membership=membership, action=ActionForm(), history=history,
                           audit_changes=changes, AUDIT_LABELS=AUDIT_LABELS,
                           unit_names=localized_by_id(m.unit for m in person.memberships))


@bp.route("/<int:user_id>/memberships", methods=["POST"])
def add_membership(user_id: int):
    person = _person(user_id)
    form = MembershipForm()
    form.unit.choices = _unit_choices(current_user)
    if not form.validate_on_submit():
        flash(_("Pick a support unit."), "error")
        return redirect(url_for("people.show", user_id=user_id))
    try:
        people_services.set_membership(current_user, person, int(form.unit.data),
                                is_manager=form.is_manager.data, now=utcnow())
    except DomainError as exc:
        return _refused(exc, user_id)
    return _done(_("The membership was saved."), user_id)


@bp.route("/<int:user_id>/memberships/<int:unit_id>/remove", methods=["POST"])
def remove_membership(user_id: int, unit_id: int):
    person = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        people_services.remove_membership(current_user, person, unit_id, now=utcnow())
    except DomainError as exc:
        return _refused(exc, user_id)
    return _done(_("The membership was removed."), user_id)


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int):
    person = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        people_services.deactivate(current_user, person, now=utcnow())
    except DomainError as exc:
        return _refused(exc, user_id)
    return _done(_("The account was deactivated: its sessions and API tokens no longer work."),
                 user_id)


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int):
    person = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        people_services.reactivate(current_user, person, now=utcnow())
    except DomainError as exc:
        return _refused(exc, user_id)
    return _done(_("The account was reactivated."), user_id)
