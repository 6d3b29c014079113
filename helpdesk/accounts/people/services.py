"""People administration: the writers behind /admin/people (issue 14).

Administration sits with the entry points in the import stack (scripts/import_graph.py):
it composes accounts, org, the permission rules (helpdesk.permissions) and the API's
tokens, which all sit below it.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from helpdesk import permissions
from helpdesk.accounts.models import Role, UnitMembership, User
from helpdesk.accounts.services import (
    EMAIL,
    STAFF_ROLES,
    create_user,
    end_sessions,
    invite,
    set_locale,
)
from helpdesk.api.models import ApiToken
from helpdesk.audit.services import record
from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit

_LAST_ADMIN = _l("This is the last active administrator: make someone else an administrator "
                 "first.")
_OWN_ACCOUNT = _l("You cannot deactivate your own account.")

# --- people administration (issue 14) ----------------------------------------------------------
#
# Each writer takes the actor and ``now``, asks helpdesk.permissions whether the actor may
# (a manager grants no more than they hold; the last active administrator stays), writes,
# records the person's fields before and after in the audit log, flushes, never commits.


def _rules():
    return permissions


def person_fields(user: User) -> dict:
    """A person as the audit log keeps it."""
    return {"name": user.name, "email": user.email, "role": str(user.role),
            "school_id": user.school_id, "locale": user.locale,
            "is_active": bool(user.is_active_account),
            "units": {str(m.unit_id): bool(m.is_manager)
                      for m in sorted(user.memberships, key=lambda m: m.unit_id)}}


def _audit(actor, user: User, verb: str, before: dict | None, now: datetime) -> None:
    record(actor, f"accounts.user.{verb}", "user", user.id, before=before,
           after=person_fields(user), now=now)


def _allow(ok: bool) -> None:
    if not ok:
        raise PermissionDenied()


def _name(value: str) -> str:
    name = " ".join((value or "").split())
    if not 2 <= len(name) <= 200:
        raise ValidationFailed("name", "Give a name of 2 to 200 characters.")
    return name


def _email(value: str, user: User | None = None) -> str:
    email = (value or "").strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 200:
        raise ValidationFailed("email", "Give a valid e-mail address.")
    taken = db.session.scalar(select(User.id).where(User.email == email))
    if taken is not None and (user is None or taken != user.id):
        raise ValidationFailed("email", "An account with this e-mail already exists.")
    return email


def _keep_an_admin(person: User, *, role: str, active: bool) -> None:
    rules = _rules()
    if not rules.keeps_an_administrator(person, becomes_admin=role == Role.ADMIN,
                                        becomes_active=active,
                                        other_active_admins=rules.count_other_active_admins(person)):
        raise Conflict(_LAST_ADMIN)


def create_person(actor, *, email: str, name: str, role: str, now: datetime,
                  school: School | None = None, units: dict[int, bool] | None = None,
                  locale: str = "el", send_invite: bool = True) -> User:
    """Create a technician, manager, administrator or school user (a school adds its
    teachers as co-users of its account); the new person gets a link to set a password."""
    units = dict(units or {})
    role = Role(role)
    _allow(_rules().may_grant(actor, role=role, school_id=school.id if school else None,
                              units=units))
    found = {u.id: u for u in db.session.scalars(select(SupportUnit).where(
        SupportUnit.id.in_(list(units))))}
    if set(units) - set(found):
        raise ValidationFailed("units", "Unknown support unit.")
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed("locale", "Unknown language.")
    user = create_user(_email(email), _name(name), role, school=school,
                       units=[found[u] for u, flag in units.items() if not flag],
                       managed_units=[found[u] for u, flag in units.items() if flag],
                       locale=locale)
    _audit(actor, user, "create", None, now)
    if send_invite:
        invite(actor, user, now=now)
    return user


def update_person(actor, person: User, *, name: str, email: str, role: str, now: datetime,
                  school: School | None = None, locale: str | None = None) -> None:
    """Change a person's details and role (within what the actor may grant)."""
    rules = _rules()
    _allow(rules.can_edit_person(actor, person))
    role = Role(role)
    before = person_fields(person)
    school_id = school.id if school else None
    units = {m.unit_id: m.is_manager for m in person.memberships}
    if role != person.role or school_id != person.school_id:
        _allow(rules.may_grant(actor, role=role, school_id=school_id,
                               units=units if role in STAFF_ROLES else {}))
    _keep_an_admin(person, role=role, active=person.is_active_account)
    if role == Role.SCHOOL and school is None:
        raise ValidationFailed("school", "A school account needs a school.")
    if role in STAFF_ROLES and not units:
        raise ValidationFailed("units", "Staff need at least one support unit.")
    person.name, person.email = _name(name), _email(email, person)
    if role not in STAFF_ROLES:
        person.memberships.clear()
    person.role, person.school_id = role, (school_id if role == Role.SCHOOL else None)
    if locale is not None:
        set_locale(person, locale)
    db.session.flush()
    if person_fields(person) != before:
        _audit(actor, person, "update", before, now)


def set_membership(actor, person: User, unit_id: int, *, is_manager: bool, now: datetime) -> None:
    """Add ``person`` to a support unit, or change their manager flag there."""
    rules = _rules()
    _allow(rules.can_edit_person(actor, person))
    if person.role not in STAFF_ROLES:
        raise ValidationFailed("unit", "Only technicians and managers belong to support units.")
    if db.session.get(SupportUnit, unit_id) is None:
        raise ValidationFailed("unit", "Unknown support unit.")
    _allow(rules.may_grant(actor, role=person.role, units={unit_id: bool(is_manager)}))
    before = person_fields(person)
    current = next((m for m in person.memberships if m.unit_id == unit_id), None)
    if current is None:
        person.memberships.append(UnitMembership(unit_id=unit_id, is_manager=bool(is_manager)))
    else:
        current.is_manager = bool(is_manager)
    db.session.flush()
    if person_fields(person) != before:
        _audit(actor, person, "membership", before, now)


def remove_membership(actor, person: User, unit_id: int, *, now: datetime) -> None:
    """Take ``person`` out of a support unit (not their last: deactivate them instead)."""
    rules = _rules()
    _allow(rules.can_edit_person(actor, person))
    current = next((m for m in person.memberships if m.unit_id == unit_id), None)
    if current is None:
        raise NotFound()
    _allow(rules.may_grant(actor, role=person.role, units={unit_id: current.is_manager}))
    if len(person.memberships) == 1:
        raise ValidationFailed("unit", "This is the person's only support unit: add another "
                                       "first, or deactivate the account.")
    before = person_fields(person)
    person.memberships.remove(current)
    db.session.flush()
    _audit(actor, person, "membership", before, now)


def deactivate(actor, person: User, *, now: datetime) -> None:
    """Close an account: every session and API token of it stops working at once."""
    _allow(_rules().can_edit_person(actor, person))
    if person.id == getattr(actor, "id", None):
        raise Conflict(_OWN_ACCOUNT)
    if not person.is_active_account:
        return
    _keep_an_admin(person, role=person.role, active=False)
    before = person_fields(person)
    person.is_active_account = False
    end_sessions(person)
    revoke_all_tokens(person, now=now)
    db.session.flush()
    _audit(actor, person, "deactivate", before, now)


def reactivate(actor, person: User, *, now: datetime) -> None:
    """Open a closed account again (its API tokens stay revoked; it logs in afresh)."""
    _allow(_rules().can_edit_person(actor, person))
    if person.is_active_account:
        return
    before = person_fields(person)
    person.is_active_account = True
    db.session.flush()
    _audit(actor, person, "reactivate", before, now)


def revoke_all_tokens(person: User, *, now: datetime) -> int:
    """Revoke every API token of ``person`` that still works; how many."""
    result = db.session.execute(update(ApiToken).where(
        ApiToken.user_id == person.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    return result.rowcount or 0
