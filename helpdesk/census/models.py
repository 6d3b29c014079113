"""Census campaigns, the schools' submissions (frozen snapshots) and the reminders sent."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint, and_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.org.models import Directorate, School


class Census(db.Model):
    """A campaign: which schools must confirm their registry, from when and by when.

    The target is stored as criteria (all empty: every active school); they combine with
    AND and are resolved to schools in SQL (``helpdesk.census.queries.target_school_ids``).
    """

    __tablename__ = "censuses"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: "" (both), PE or DE: the education level of the schools' directorate.
    target_edu_level: Mapped[str] = mapped_column(String(2), default="")
    #: School type codes (school_types.csv: NIP, DIM, GYM, GEL, …); [] means any.
    target_school_types: Mapped[list] = mapped_column(JSON, default=list)
    #: Region ids; [] means any.
    target_region_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: Directorate ids; [] means any.
    target_directorate_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: First day (Athens) the schools may submit.
    opens_on: Mapped[date] = mapped_column(Date)
    #: Last day (Athens): a submission after its end (24:00 Athens time) is late.
    deadline: Mapped[date] = mapped_column(Date)
    #: Days before the deadline on which a reminder goes to the schools still missing.
    reminder_days: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_censuses_deadline", "deadline"),)


class CensusSubmission(db.Model):
    """A school's submission: the registry as it was, frozen; one per school and campaign.

    A school may submit again until the deadline (the last snapshot counts); after the
    deadline a school that has not submitted may still do so once, recorded as late.
    """

    __tablename__ = "census_submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    census_id: Mapped[int] = mapped_column(ForeignKey("censuses.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Submitted after the end of the deadline day (Athens).
    is_late: Mapped[bool] = mapped_column(default=False)
    #: {"school": {...}, "items": [{...}, ...]}: a frozen copy of the registry's fields.
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    item_count: Mapped[int] = mapped_column(default=0)
    #: The statement signed by the principal (a PDF), under instance/census_signed/.
    signed_stored_name: Mapped[str | None] = mapped_column(String(64))
    signed_filename: Mapped[str | None] = mapped_column(String(200))
    signed_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    census: Mapped[Census] = relationship()
    school: Mapped[School] = relationship()
    submitted_by: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("census_id", "school_id",
                                       name="uq_census_submissions_census_id_school_id"),)


class CensusSnapshotItem(db.Model):
    """One item of a submission's snapshot, in columns, for the reports' SQL aggregates.

    The JSON snapshot is the record shown and printed; these rows repeat the fields the
    procurement-planning report groups by. Replaced together with the snapshot.
    """

    __tablename__ = "census_snapshot_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("census_submissions.id", ondelete="CASCADE"))
    #: The registry item (kept as a plain id: the snapshot outlives edits to the item).
    item_id: Mapped[int] = mapped_column(index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("equipment_categories.id"))
    manufacturer: Mapped[str] = mapped_column(String(120), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12))
    acquisition_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_census_snapshot_items_submission", "submission_id"),)


class CensusReminder(db.Model):
    """A reminder sent to a school; unique per (campaign, school, days before): sent once."""

    __tablename__ = "census_reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    census_id: Mapped[int] = mapped_column(ForeignKey("censuses.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The outbox row that carries the e-mail (a plain id: the outbox lives on its own branch).
    notification_id: Mapped[int | None]

    __table_args__ = (UniqueConstraint("census_id", "school_id", "days_before",
                                       name="uq_census_reminders_census_id_school_id_days_before"),)


def target_condition(census: Census):
    """The SQL condition on School for the campaign's schools (active, matching every criterion)."""
    conds = [School.is_active.is_(True)]
    if census.target_edu_level:
        conds.append(School.directorate_id.in_(
            select(Directorate.id).where(Directorate.edu_level == census.target_edu_level)))
    if census.target_school_types:
        conds.append(School.school_type.in_(list(census.target_school_types)))
    if census.target_region_ids:
        conds.append(School.directorate_id.in_(
            select(Directorate.id).where(Directorate.region_id.in_(list(census.target_region_ids)))))
    if census.target_directorate_ids:
        conds.append(School.directorate_id.in_(list(census.target_directorate_ids)))
    return and_(*conds)
