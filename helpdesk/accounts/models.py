"""Accounts: schools' official accounts, technicians, managers, administrators."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from helpdesk.core.text import fold
from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit


class Role(StrEnum):
    SCHOOL = "school"
    TECHNICIAN = "technician"
    MANAGER = "manager"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    #: A unique index, not a constraint: SQLite adds an index in place, while a constraint
    #: would rebuild the users table, which the foreign keys of a live database forbid.
    __table_args__ = (Index("uq_users_psd_uid", "psd_uid", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; the log-in name.
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The name folded (helpdesk.core.text.fold) for accent-insensitive search; set with it.
    name_folded: Mapped[str] = mapped_column(String(200), default="", server_default="",
                                             index=True)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    #: Set for school accounts: the one school they act for.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="el")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Part of the session cookie's user id; log-out and a password change add one, which
    #: ends every session (and copied cookie) of the user.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: The ΠΣΔ (sso.sch.gr) user name this account signs in with, lower-case; None: not bound.
    psd_uid: Mapped[str | None] = mapped_column(String(100))

    school: Mapped[School | None] = relationship()
    memberships: Mapped[list[UnitMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @validates("name")
    def _fold_name(self, _key, value):
        self.name_folded = fold(value)[:200]
        return value

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:  # Flask-Login: what the session cookie carries
        return f"{self.id}:{self.session_version}"

    @property
    def unit_ids(self) -> frozenset[int]:
        return frozenset(m.unit_id for m in self.memberships)

    @property
    def managed_unit_ids(self) -> frozenset[int]:
        return frozenset(m.unit_id for m in self.memberships if m.is_manager)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_school(self) -> bool:
        return self.role == Role.SCHOOL

    @property
    def is_staff(self) -> bool:
        """A technician or unit manager: works tickets at their units."""
        return self.role in (Role.TECHNICIAN, Role.MANAGER)


class UnitMembership(db.Model):
    __tablename__ = "unit_memberships"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("support_units.id"), primary_key=True, index=True)
    is_manager: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[SupportUnit] = relationship()
