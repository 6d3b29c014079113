"""The organisation: regions, directorates, support units, schools, categories."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db

LEVELS = (1, 2, 3)


class Region(db.Model):
    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: ISO 3166-2:GR code, e.g. GR-A.
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name_el: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500), default="")


class Directorate(db.Model):
    __tablename__ = "directorates"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``dipe-<ldap_ou>`` / ``dide-<ldap_ou>``.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: PE (primary) or DE (secondary).
    edu_level: Mapped[str] = mapped_column(String(2))
    name_el: Mapped[str] = mapped_column(String(200))
    short_name_el: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    ldap_ou: Mapped[str] = mapped_column(String(40))
    #: third-level sch.gr domain, e.g. ``ach`` for ``*.ach.sch.gr``.
    sch_domain: Mapped[str] = mapped_column(String(20))
    registry_no: Mapped[str] = mapped_column(String(10), default="")
    source: Mapped[str] = mapped_column(String(500), default="")

    region: Mapped[Region] = relationship()


class SupportUnit(db.Model):
    """A team that works tickets: ΠΛΗΝΕΤ (1), ΠΣΔ partner (2) or Διόφαντος (3)."""

    __tablename__ = "support_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    level: Mapped[int]
    name_el: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    #: Set for level-1 units: the directorate they serve.
    directorate_id: Mapped[int | None] = mapped_column(ForeignKey("directorates.id"), unique=True)
    source: Mapped[str] = mapped_column(String(500), default="")

    directorate: Mapped[Directorate | None] = relationship(foreign_keys=[directorate_id])


class PartnerArea(db.Model):
    """Which level-2 unit (ΠΣΔ partner) serves a directorate (partner_regions.csv)."""

    __tablename__ = "partner_areas"
    directorate_id: Mapped[int] = mapped_column(ForeignKey("directorates.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("support_units.id"), index=True)
    as_of: Mapped[str] = mapped_column(String(20), default="")
    source: Mapped[str] = mapped_column(String(500), default="")


class School(db.Model):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: 7-digit ministry (ΥΠΑΙΘ) code.
    code: Mapped[str] = mapped_column(String(7), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Folded name for accent-insensitive search.
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    school_type: Mapped[str] = mapped_column(String(20))
    #: Official ΠΣΔ address, mail@<host>.<domain>.sch.gr.
    email: Mapped[str] = mapped_column(String(200), unique=True)
    directorate_id: Mapped[int] = mapped_column(ForeignKey("directorates.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(500), default="")

    directorate: Mapped[Directorate] = relationship()


class Category(db.Model):
    """A request category; says at which level a request starts."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    name_el: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    first_level: Mapped[int] = mapped_column(default=1)
    #: none / optional / required: whether a ticket must reference equipment.
    asset_link: Mapped[str] = mapped_column(String(60), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(500), default="")

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class ResolutionType(db.Model):
    __tablename__ = "resolution_types"
    #: The code of "resolved by a guide of the library": whoever resolves so names the guide
    #: (helpdesk.kbuse.services.resolve), so one text for many requests cannot use it.
    GUIDE = "GUIDE"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_el: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


Index("ix_schools_directorate_name", School.directorate_id, School.name)
