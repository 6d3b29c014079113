"""Test data built through the same services as the product (per-test, rolled back)."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from helpdesk.accounts.models import Role, User
from helpdesk.accounts.services import create_user
from helpdesk.core.text import fold
from helpdesk.extensions import db
from helpdesk.org.models import Category, Directorate, ResolutionType, School, SupportUnit
from helpdesk.org.queries import chain_for_school
from helpdesk.tickets import services

PASSWORD = "correct horse battery"
_seq = itertools.count(1)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def directorate(code: str) -> Directorate:
    return db.session.scalar(select(Directorate).where(Directorate.code == code))


def make_school(directorate_code: str = "dide-thess-v", name: str | None = None) -> School:
    n = next(_seq)
    d = directorate(directorate_code)
    school = School(code=f"8{n:06d}", name=name or f"{n}ο Γυμνάσιο Δοκιμής",
                    name_folded=fold(name or f"{n}ο Γυμνάσιο Δοκιμής"), school_type="GYM",
                    email=f"mail@{n}gym-test.{d.sch_domain}.sch.gr", directorate_id=d.id)
    db.session.add(school)
    db.session.flush()
    return school


def make_school_user(school: School) -> User:
    return create_user(f"user{next(_seq)}-{school.email}", f"Διευθυντής {school.name}",
                       Role.SCHOOL, PASSWORD, school=school)


def unit_at(school: School, level: int) -> SupportUnit:
    return db.session.get(SupportUnit, chain_for_school(school).unit_at(level))


def make_staff(unit: SupportUnit, *, manager: bool = False, name: str | None = None) -> User:
    n = next(_seq)
    role = Role.MANAGER if manager else Role.TECHNICIAN
    kwargs = {"managed_units": [unit]} if manager else {"units": [unit]}
    return create_user(f"tech{n}@{unit.code}.example.sch.gr", name or f"Τεχνικός {n}", role,
                       PASSWORD, **kwargs)


def make_admin() -> User:
    return create_user(f"admin{next(_seq)}@sch.gr", "Διαχειριστής", Role.ADMIN, PASSWORD)


def category(code: str = "HW-PRN") -> Category:
    return db.session.scalar(select(Category).where(Category.code == code))


def resolution(code: str = "REMOTE") -> ResolutionType:
    return db.session.scalar(select(ResolutionType).where(ResolutionType.code == code))


def make_ticket(user: User, *, code: str = "HW-PRN", subject: str = "Ο εκτυπωτής δεν τυπώνει",
                description: str = "Μπλοκάρει το χαρτί στο ΣΕΠΕΗΥ.", minutes: int = 0, **kwargs):
    return services.open_ticket(user, school=user.school, category=category(code), subject=subject,
                                description=description, now=at(minutes), **kwargs)


class World:
    """Two schools in different regions with staff at every level of each chain."""

    def __init__(self):
        self.school_a = make_school("dide-thess-v")
        self.school_b = make_school("dide-thess-v")
        self.school_far = make_school("dipe-ach")
        self.user_a = make_school_user(self.school_a)
        self.user_b = make_school_user(self.school_b)
        self.user_far = make_school_user(self.school_far)
        self.l1 = make_staff(unit_at(self.school_a, 1), name="Τεχνικός Α1")
        self.l1_peer = make_staff(unit_at(self.school_a, 1), name="Τεχνικός Α1β")
        self.l2 = make_staff(unit_at(self.school_a, 2), name="Τεχνικός Α2")
        self.l3 = make_staff(unit_at(self.school_a, 3), name="Τεχνικός Διόφαντος")
        self.l1_far = make_staff(unit_at(self.school_far, 1), name="Τεχνικός Αχαΐας")
        self.l2_far = make_staff(unit_at(self.school_far, 2), name="Τεχνικός ΙΤΥΕ")
        self.manager = make_staff(unit_at(self.school_a, 1), manager=True, name="Υπεύθυνος ΠΛΗΝΕΤ")
        self.admin = make_admin()
        db.session.flush()
