"""One row per change an administrator (or the system) makes to a setting."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime
from helpdesk.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who: a user, or NULL for the system (helpdesk.accounts.system.SYSTEM).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: What, as "<feature>.<object>.<verb>", e.g. "sla.closure.add".
    action: Mapped[str] = mapped_column(String(60))
    #: The object changed: its kind ("sla_policy", "business_hours", "closure") and id.
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    #: The object's fields before and after (None: created / deleted).
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    actor = relationship("User", lazy="joined")
