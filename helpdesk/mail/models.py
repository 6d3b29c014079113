"""Inbound mail, stored first: the raw message and what processing made of it."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db


class InboundStatus(StrEnum):
    RECEIVED = "received"        #: stored, not processed yet (the sweep re-queues these)
    PROCESSED = "processed"      #: became a ticket or a reply
    QUARANTINED = "quarantined"  #: kept for an administrator, with the reason
    IGNORED = "ignored"          #: machine mail (auto-reply, bounce, loop) or discarded


class InboundMessage(db.Model):
    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Message-ID without brackets, or ``sha256:<hex>`` of the raw bytes when absent:
    #: a message delivered twice is stored, and processed, once.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    #: The raw RFC 5322 bytes as received (deferred: lists never load them).
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    #: cli, lmtp, smtp or imap:<mailbox user>.
    source: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: InboundStatus.
    status: Mapped[str] = mapped_column(String(12), default=InboundStatus.RECEIVED)
    #: Why it was quarantined or ignored, e.g. unknown_sender, bounce (a code, not prose).
    reason: Mapped[str | None] = mapped_column(String(40))
    #: Free text for the administrator (an error, who discarded it).
    detail: Mapped[str | None] = mapped_column(Text)
    #: Envelope of the claim, shown in the quarantine list (CR/LF removed).
    from_addr: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(300))
    #: Set by an administrator who assigns a quarantined message to a school.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    #: The quoted earlier messages folded out of the stored reply.
    quoted_text: Mapped[str | None] = mapped_column(Text)
    #: Processing attempts begun (counted before each attempt, so a crash counts too).
    attempts: Mapped[int] = mapped_column(default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The receiving MTA's Authentication-Results: {"spf": "pass", "dkim": …, "dmarc": …,
    #: "authserv_id": …}; None when it added none we trust.
    auth_results: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_inbound_messages_status_received", "status", "received_at"),
        Index("ix_inbound_messages_from_received", "from_addr", "received_at"),
    )
