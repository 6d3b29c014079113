"""``/metrics``: what the processes measured (helpdesk.core.metrics), and what is read
at scrape time from Redis and the database: queue depths, the outbox backlog and its
oldest undelivered age, the quarantine. Each figure is one indexed count or one LLEN."""
from __future__ import annotations

from datetime import datetime

import redis
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from helpdesk.core import metrics, redisconn
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.outbox.models import Notification

#: Notification states still waiting to leave.
UNDELIVERED = ("pending", "sending")


class StateCollector:
    """Gauges read at scrape time (the same on every node: shared state)."""

    def __init__(self, now: datetime | None = None):
        self.now = now

    def collect(self):
        depth = GaugeMetricFamily("arogi_queue_depth", "Jobs waiting in each RQ queue.",
                                  labels=["queue"])
        try:
            with redisconn.get_redis().pipeline(transaction=False) as pipe:
                for name in redisconn.QUEUES:
                    pipe.llen(f"rq:queue:{name}")
                lengths = pipe.execute()  # one round trip for every queue
        except (redis.RedisError, OSError):  # Redis down: the series is left out
            lengths = None
        if lengths is not None:
            for name, length in zip(redisconn.QUEUES, lengths, strict=True):
                depth.add_metric([name], length)
        yield depth

        count, oldest = db.session.execute(
            select(func.count(), func.min(Notification.created_at))
            .where(Notification.status.in_(UNDELIVERED))).one()
        yield GaugeMetricFamily("arogi_outbox_backlog", "Notifications not yet delivered.",
                                value=count)
        age = ((self.now or utcnow()) - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily("arogi_outbox_oldest_undelivered_seconds",
                                "Age of the oldest notification not yet delivered.",
                                value=max(age, 0.0))
        quarantined = db.session.scalar(
            select(func.count()).select_from(InboundMessage)
            .where(InboundMessage.status == InboundStatus.QUARANTINED))
        yield GaugeMetricFamily("arogi_mail_quarantine_size",
                                "Inbound messages waiting in quarantine.", value=quarantined)


def exposition() -> bytes:
    """The text exposition of every series."""
    registry = metrics.collecting_registry() or REGISTRY
    state = CollectorRegistry()
    state.register(StateCollector())
    return generate_latest(registry) + generate_latest(state)
