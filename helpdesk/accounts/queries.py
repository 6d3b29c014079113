"""Reads of accounts for the people pages: a scoped, searchable, paged list."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.accounts.models import UnitMembership, User
from helpdesk.core.text import like_pattern
from helpdesk.extensions import db

PAGE_SIZE = 50


@dataclass(frozen=True)
class PeopleFilter:
    """What the list is narrowed to: a search term (name or e-mail, accents and case do
    not count), a role, a support unit, active or not."""

    q: str = ""
    role: str = ""
    unit_id: int | None = None
    active: bool | None = None


def _conditions(scope, f: PeopleFilter) -> list:
    where = [scope]
    if f.q.strip():
        pattern = like_pattern(f.q)
        where.append(User.name_folded.like(pattern, escape="\\")
                     | User.email.like(pattern, escape="\\"))
    if f.role:
        where.append(User.role.in_([f.role]))  # a filter the user picked, not an access rule
    if f.unit_id is not None:
        where.append(exists().where(UnitMembership.user_id == User.id,
                                    UnitMembership.unit_id == f.unit_id))
    if f.active is not None:
        where.append(User.is_active_account.is_(f.active))
    return where


def list_people(scope, f: PeopleFilter, *, page: int = 1,
                per_page: int = PAGE_SIZE) -> tuple[list[User], int]:
    """One page of the people ``scope`` (permissions.people_scope) allows, by name, and
    how many there are: three statements whatever the page size (the count, the rows
    with their schools joined, the memberships with their units)."""
    where = _conditions(scope, f)
    total = db.session.scalar(select(func.count()).select_from(User).where(*where)) or 0
    rows = db.session.scalars(
        select(User).where(*where)
        .options(selectinload(User.memberships).joinedload(UnitMembership.unit),
                 joinedload(User.school))
        .order_by(User.name_folded, User.id)
        .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return list(rows), total
