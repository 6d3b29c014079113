"""Service tickets of ΠΣΔ sign-ins: each used once, and the session it opened."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.types import UTCDateTime
from helpdesk.extensions import db


class CasTicket(db.Model):
    """One row per service ticket that signed someone in (its SHA-256, never the ticket).

    A second use of the ticket is refused (the row exists); the CAS server's single
    log-out names the ticket, and the session it opened ends (``logged_out_at``)."""

    __tablename__ = "cas_tickets"
    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: After this the row is deleted, and a session still carrying it ends.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Set by the single log-out (or our log-out): the session it opened has ended.
    logged_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
