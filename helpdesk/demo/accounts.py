"""Demo accounts: one per demo school, technicians at the three levels, an administrator."""
from __future__ import annotations

import random

from sqlalchemy import select

from helpdesk.accounts.models import Role, UnitMembership, User
from helpdesk.accounts.services import create_user
from helpdesk.demo.people import random_person
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit
from helpdesk.org.queries import chain_for_directorate, chain_for_school
from helpdesk.org.services import LEVEL3_CODE, read_csv

DEMO_PASSWORD = "arogi-demo-2026"
ADMIN_EMAIL = "arogi-admin@sch.gr"
#: Technicians per unit at each level; the first of each unit is its manager.
STAFF_PER_LEVEL = {1: 2, 2: 3, 3: 4}
STAFF_DOMAIN = {1: "sch.gr", 2: "sch.gr", 3: "cti.gr"}


def demo_loaded() -> bool:
    """Tell whether the demo accounts exist (the demo administrator is the marker)."""
    return db.session.scalar(select(User.id).where(User.email == ADMIN_EMAIL)) is not None


def create_accounts(schools: list[School], rng: random.Random, password_hash: str) -> int:
    """Create the school accounts, the staff of the units serving them and the admin."""
    for school in schools:
        create_user(school.email, school.name, Role.SCHOOL, school=school,
                    password_hash=password_hash)
    taken = set(db.session.scalars(select(User.email)))
    created = len(schools)
    for unit in serving_units(schools):
        created += _create_staff(unit, rng, taken, password_hash)
    create_user(ADMIN_EMAIL, "Διαχειριστής Αρωγής", Role.ADMIN, password_hash=password_hash)
    return created + 1


def serving_units(schools: list[School]) -> list[SupportUnit]:
    """List the units of every level that serve the schools, level 1 first."""
    unit_ids: set[int] = set()
    for directorate_id in sorted({s.directorate_id for s in schools}):
        chain = chain_for_directorate(directorate_id)
        unit_ids |= {u for u in (chain.l1, chain.l2, chain.l3) if u is not None}
    units = db.session.scalars(select(SupportUnit).where(SupportUnit.id.in_(unit_ids)))
    return sorted(units, key=lambda u: (u.level, u.code))


def _create_staff(unit: SupportUnit, rng: random.Random, taken: set[str],
                  password_hash: str) -> int:
    """Create the unit's technicians; the first one manages the unit."""
    count = STAFF_PER_LEVEL[unit.level]
    for index in range(count):
        name, user = random_person(rng)
        email = _free_email(user, STAFF_DOMAIN[unit.level], taken)
        if index == 0:
            create_user(email, name, Role.MANAGER, managed_units=[unit],
                        password_hash=password_hash)
        else:
            create_user(email, name, Role.TECHNICIAN, units=[unit], password_hash=password_hash)
    return count


def _free_email(user: str, domain: str, taken: set[str]) -> str:
    """Return a free ``user@domain``, with a number appended when it is taken."""
    email, suffix = f"{user}@{domain}", 1
    while email in taken:
        suffix += 1
        email = f"{user}{suffix}@{domain}"
    taken.add(email)
    return email


def logins() -> list[tuple[str, str, str]]:
    """List (role in Greek, e-mail, password) of a few demo accounts; none without demo data."""
    school_user = _demo_school_account() if demo_loaded() else None
    if school_user is None:
        return []
    chain = chain_for_school(school_user.school)
    level3 = db.session.scalar(select(SupportUnit.id).where(SupportUnit.code == LEVEL3_CODE))
    names = dict(db.session.execute(select(SupportUnit.id, SupportUnit.name_el).where(
        SupportUnit.id.in_([u for u in (chain.l1, chain.l2, level3) if u is not None]))).all())
    rows = [(f"Σχολική μονάδα — {school_user.school.name}", school_user)]
    rows += [(f"Τεχνικός {level}ου επιπέδου — {names.get(unit, '')}", _member(unit, manager=False))
             for level, unit in ((1, chain.l1), (2, chain.l2), (3, level3))]
    rows += [(f"Υπεύθυνος μονάδας — {names.get(chain.l1, '')}", _member(chain.l1, manager=True)),
             ("Διαχειριστής", db.session.scalar(select(User).where(User.email == ADMIN_EMAIL)))]
    return [(label, user.email, DEMO_PASSWORD) for label, user in rows if user is not None]


def _demo_school_account() -> User | None:
    """Return the account of the first sample school, else of the first school by id."""
    first_email = read_csv("sample_schools.csv")[0]["official_email"].strip().lower()
    stmt = select(User).where(User.role == Role.SCHOOL)
    return (db.session.scalar(stmt.where(User.email == first_email))
            or db.session.scalar(stmt.order_by(User.id).limit(1)))


def _member(unit_id: int | None, *, manager: bool) -> User | None:
    """Return the first (by id) manager or plain member of a unit."""
    if unit_id is None:
        return None
    return db.session.scalar(
        select(User).join(UnitMembership, UnitMembership.user_id == User.id)
        .where(UnitMembership.unit_id == unit_id, UnitMembership.is_manager.is_(manager))
        .order_by(User.id).limit(1)
    )
