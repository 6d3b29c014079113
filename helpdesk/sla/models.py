"""SLA policies, business hours and closures (the business calendar's stored rows)."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db

ACTIONS = ("escalate", "warn")


class SlaPolicy(db.Model):
    """Targets in working minutes for a priority, optionally for one category."""

    __tablename__ = "sla_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: helpdesk.tickets.states.Priority (1 low … 4 urgent).
    priority: Mapped[int]
    #: Set for a category's override; None is the priority's default.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    first_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    level1_minutes: Mapped[int | None]
    level2_minutes: Mapped[int | None]
    level3_minutes: Mapped[int | None]
    #: Share of a target after which the ticket is "warning" (e.g. 0.75).
    warn_ratio: Mapped[float] = mapped_column(Float, default=0.75)
    #: What the sweep does when a level's time runs out: escalate or warn.
    action_on_level_breach: Mapped[str] = mapped_column(String(10), default="escalate")

    __table_args__ = (
        UniqueConstraint("priority", "category_id", name="uq_sla_policies_priority_category"),
        CheckConstraint("priority BETWEEN 1 AND 4", name="priority"),
        CheckConstraint("warn_ratio > 0 AND warn_ratio <= 1", name="warn_ratio"),
        CheckConstraint("action_on_level_breach IN ('escalate', 'warn')", name="action"),
    )

    @property
    def level_minutes(self) -> tuple[int | None, int | None, int | None]:
        return (self.level1_minutes, self.level2_minutes, self.level3_minutes)


class BusinessHours(db.Model):
    """One working interval on a weekday, for a support unit or (unit None) the default.

    A unit with rows of its own uses only those; otherwise the default rows apply, and
    with no rows at all Monday–Friday 08:00–15:00.
    """

    __tablename__ = "business_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("support_units.id"), index=True)
    #: 0 = Monday … 6 = Sunday.
    weekday: Mapped[int]
    #: Local (Europe/Athens) wall-clock times.
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="interval"),
    )


class Closure(db.Model):
    """A non-working date beyond the public holidays, for every unit or one unit."""

    __tablename__ = "closures"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("support_units.id"))
    description: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (Index("ix_closures_day_unit", "day", "unit_id"),)
