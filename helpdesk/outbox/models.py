"""Outbox rows: one notification to one recipient, deduplicated by a key."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db

#: sending: claimed by one worker (see workers.outbox_jobs); back to pending if it dies.
#: suppressed: not sent, the address hard-bounced repeatedly (helpdesk.mail.bounces).
STATUSES = ("pending", "sending", "sent", "failed", "suppressed")


class Notification(db.Model):
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. sla_warning, sla_breach.
    kind: Mapped[str] = mapped_column(String(40))
    recipient_email: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    #: The same key is queued once: the guarantee that a notification is not repeated.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: pending, sending, sent, failed or suppressed.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    # Delivery (helpdesk.outbox.delivery, workers.outbox_jobs).
    #: The user the address belongs to, if any (named in the signed Message-ID).
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The language the mail was written in.
    locale: Mapped[str] = mapped_column(String(5), default="el", server_default="el")
    #: The HTML alternative of ``body``; None for plain-text-only mail.
    body_html: Mapped[str | None] = mapped_column(Text)
    #: Our signed Message-ID (helpdesk.mail.ids), fixed before the first attempt.
    message_id: Mapped[str | None] = mapped_column(String(250), index=True)
    #: Sent with ``Auto-Submitted: auto-generated`` (reports of changes, not relayed replies).
    is_automatic: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Not before this time (back-off after a temporary SMTP failure); None means now.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a worker claimed the row (status sending).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The DSN status code of a bounce reported for this mail (e.g. 5.2.2), and when.
    bounce_status: Mapped[str | None] = mapped_column(String(12))
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_notifications_status_created", "status", "created_at"),
                      Index("ix_notifications_status_next_attempt", "status", "next_attempt_at"))


class Suppression(db.Model):
    """An address that bounced: counted; no longer mailed once it hard-bounced
    MAIL_SUPPRESS_AFTER_HARD_BOUNCES times, until an administrator clears it."""

    __tablename__ = "mail_suppressions"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower case.
    address: Mapped[str] = mapped_column(String(200), unique=True)
    #: The last diagnostic (the remote server's words).
    reason: Mapped[str | None] = mapped_column(Text)
    #: The last DSN status code, e.g. 5.1.1.
    last_status: Mapped[str | None] = mapped_column(String(12))
    hard_count: Mapped[int] = mapped_column(default=0, server_default="0")
    soft_count: Mapped[int] = mapped_column(default=0, server_default="0")
    is_suppressed: Mapped[bool] = mapped_column(default=False, server_default=false())
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
