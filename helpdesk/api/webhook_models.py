"""Webhook subscriptions and their deliveries (an outbox of HTTP calls)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db

EVENTS = ("ticket.created", "ticket.replied", "ticket.escalated", "ticket.resolved",
          "sla.warning", "sla.breached", "equipment.changed", "incident.created",
          "incident.updated", "incident.resolved")


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    #: The event names (EVENTS) this subscription receives.
    events: Mapped[list] = mapped_column(JSON, default=list)
    #: HMAC-SHA256 key for the X-Arogi-Signature header; shown once at creation.
    secret: Mapped[str] = mapped_column(String(100))
    #: An administrator's explicit permission to call loopback/private addresses.
    allow_private: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    #: The ticket the event is about, if any: retention scrubs the payloads of the tickets
    #: it anonymises (helpdesk.api.webhooks.RETENTION).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    #: pending, sending, sent or failed.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The HTTP status of the last attempt (None: no answer).
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    subscription: Mapped[WebhookSubscription] = relationship()

    __table_args__ = (
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"),
    )
