"""A canned reply: a titled text with placeholders, kept by one unit or shared by all."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.org.models import SupportUnit


class CannedReply(db.Model):
    __tablename__ = "canned_replies"
    __table_args__ = (Index("ix_canned_replies_unit_title", "unit_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unit that keeps it; None: shared by every unit (national).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("support_units.id"))
    title: Mapped[str] = mapped_column(String(120))
    #: Plain text with placeholders ({σχολείο}, {αριθμός}, …: helpdesk.canned.placeholders).
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[SupportUnit | None] = relationship()

    @property
    def is_shared(self) -> bool:
        return self.unit_id is None
