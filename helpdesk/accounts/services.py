"""Account writers. They flush; the caller commits."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from helpdesk.accounts.models import Role, UnitMembership, User
from helpdesk.accounts.passwords import dummy_hash, hash_password, verify_password
from helpdesk.core.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit


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
    if len(password) < 10:
        raise ValidationFailed("password", "The password must have at least 10 characters.")
    user.password_hash = _hash(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Every session of the user (log-ins elsewhere, copied cookies) stops working."""
    user.session_version = (user.session_version or 1) + 1


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed("locale", "Unknown language.")
    user.locale = locale
