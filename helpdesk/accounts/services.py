"""Account writers. They flush; the caller commits."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from helpdesk import bus, events
from helpdesk.accounts import reset
from helpdesk.accounts.models import Role, UnitMembership, User
from helpdesk.accounts.passwords import dummy_hash, hash_password, verify_password
from helpdesk.audit.services import record
from helpdesk.core.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit

#: The shortest password any form accepts.
PASSWORD_MIN = 10
#: The roles that work at support units.
STAFF_ROLES = (Role.TECHNICIAN, Role.MANAGER)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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
    address = (email or "").strip().lower()[:200]
    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    if user is not None and user.is_active_account:
        bus.record(events.PasswordResetRequested(user_id=user.id, at=now))
        return
    # No account: the same signing and rendering, for nobody.
    decoy = User(id=0, password_hash="", session_version=1)
    with force_locale("el"):
        render_template("mail/password_reset.txt", name="", invite=False, hours=1,
                        url=reset.make_token(decoy))


def invite(actor, user: User, *, now: datetime) -> None:
    """Send a new account the link that sets its first password."""
    bus.record(events.PasswordResetRequested(user_id=user.id, at=now, invite=True))


def user_for_reset(token: str) -> User | None:
    """The active account a reset link is for, while the link holds; else None."""
    found = reset.user_id_of(token)
    if found is None:
        return None
    user = db.session.get(User, found[0])
    if user is None or not user.is_active_account or not reset.matches(user, found[1]):
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
