"""Account writers. They flush; the caller commits."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from helpdesk.accounts.models import Role, UnitMembership, User
from helpdesk.accounts.passwords import dummy_hash, hash_password, verify_password
from helpdesk.audit.services import record
from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit

#: The shortest password any form accepts.
PASSWORD_MIN = 10
#: The roles that work at support units.
STAFF_ROLES = (Role.TECHNICIAN, Role.MANAGER)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LAST_ADMIN = _l("This is the last active administrator: make someone else an administrator "
                 "first.")
_OWN_ACCOUNT = _l("You cannot deactivate your own account.")


def _hash(password: str) -> str:
    return hash_password(password, tuple(current_app.config["PASSWORD_HASH_PARAMS"]))


def create_user(
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    *,
    school: School | None = None,
    units: Iterable[SupportUnit] = (),
    managed_units: Iterable[SupportUnit] = (),
    locale: str = "el",
    password_hash: str | None = None,
) -> User:
    """Create an account; a school account needs a school, staff need a unit."""
    email = email.strip().lower()
    role = Role(role)
    if role == Role.SCHOOL and school is None:
        raise ValidationFailed("school", "A school account needs a school.")
    if role in (Role.TECHNICIAN, Role.MANAGER) and not (list(units) or list(managed_units)):
        raise ValidationFailed("units", "Staff need at least one support unit.")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ValidationFailed("email", "An account with this e-mail already exists.")
    user = User(
        email=email,
        name=name,
        role=role,
        school=school if role == Role.SCHOOL else None,
        locale=locale,
        password_hash=password_hash or (_hash(password) if password else ""),
    )
    for unit in units:
        user.memberships.append(UnitMembership(unit=unit, is_manager=False))
    for unit in managed_units:
        user.memberships.append(UnitMembership(unit=unit, is_manager=True))
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str, *, now: datetime) -> User | None:
    """The active user with this e-mail and password, or None. An unknown or inactive
    account (or one without a password) costs one hash check as well: no timing tells
    which accounts exist."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    usable = user is not None and user.is_active_account and bool(user.password_hash)
    stored = user.password_hash if usable else dummy_hash(
        tuple(current_app.config["PASSWORD_HASH_PARAMS"]))
    if not verify_password(stored, password) or not usable:
        return None
    user.last_login_at = now
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password (the strength rule of every password form) and end every session."""
    if len(password or "") < PASSWORD_MIN:
        raise ValidationFailed("password", "The password must have at least 10 characters.")
    user.password_hash = _hash(password)
    end_sessions(user)


def _password_audit(actor, user: User, action: str, before: int, now: datetime) -> None:
    """A password change in the audit log: the sessions it ended, never the hash."""
    record(actor, action, "user", user.id, before={"session_version": before},
           after={"session_version": user.session_version}, now=now)


def change_password(actor: User, current: str, new: str, *, now: datetime) -> None:
    """The signed-in user changes their own password, knowing the current one."""
    if not verify_password(actor.password_hash, current or ""):
        raise ValidationFailed("current", "The current password is wrong.")
    before = actor.session_version
    set_password(actor, new)
    _password_audit(actor, actor, "accounts.password.change", before, now)
    db.session.flush()


# --- password reset by e-mail ----------------------------------------------------------------

def request_password_reset(email: str, *, now: datetime) -> None:
    """Ask for a link that sets the password of the account with this address.

    Whether or not an active account has it, the caller answers the same; the work done
    is the same too (one lookup, one link signed, one mail rendered), so the time does not
    tell either. The mail itself is written at the commit (helpdesk.notify.handlers)."""
    from helpdesk import bus, events
    from helpdesk.accounts.reset import make_token

    address = (email or "").strip().lower()[:200]
    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    if user is not None and user.is_active_account:
        bus.record(events.PasswordResetRequested(user_id=user.id, at=now))
        return
    # No account: the same signing and rendering, for nobody.
    decoy = User(id=0, password_hash="", session_version=1)
    with force_locale("el"):
        render_template("mail/password_reset.txt", name="", invite=False, hours=1,
                        url=make_token(decoy))


def invite(actor, user: User, *, now: datetime) -> None:
    """Send a new account the link that sets its first password."""
    from helpdesk import bus, events

    bus.record(events.PasswordResetRequested(user_id=user.id, at=now, invite=True))


def user_for_reset(token: str) -> User | None:
    """The active account a reset link is for, while the link holds; else None."""
    from helpdesk.accounts.reset import matches, user_id_of

    found = user_id_of(token)
    if found is None:
        return None
    user = db.session.get(User, found[0])
    if user is None or not user.is_active_account or not matches(user, found[1]):
        return None
    return user


def reset_password(token: str, password: str, *, now: datetime) -> User:
    """Set the password through a reset link: the link dies, every session ends, audited."""
    user = user_for_reset(token)
    if user is None:
        raise ValidationFailed("token", "This link is not valid any more. Ask for a new one.")
    before = user.session_version
    set_password(user, password)
    _password_audit(user, user, "accounts.password.reset", before, now)
    db.session.flush()
    return user


def end_sessions(user: User) -> None:
    """Every session of the user (log-ins elsewhere, copied cookies) stops working."""
    user.session_version = (user.session_version or 1) + 1


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed("locale", "Unknown language.")
    user.locale = locale


# --- people administration (issue 14) ----------------------------------------------------------
#
# Each writer takes the actor and ``now``, asks helpdesk.permissions whether the actor may
# (a manager grants no more than they hold; the last active administrator stays), writes,
# records the person's fields before and after in the audit log, flushes, never commits.


def _rules():
    # helpdesk.permissions reads the ticket models, so it sits above accounts; the people
    # writers ask it at call time (the one place for access decisions).
    from helpdesk import permissions

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
    # The API's token table sits above accounts (helpdesk.api); read at call time.
    from helpdesk.api.models import ApiToken

    result = db.session.execute(update(ApiToken).where(
        ApiToken.user_id == person.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    return result.rowcount or 0
