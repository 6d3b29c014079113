"""RQ jobs: plain functions taking ids or simple values, safe to run twice.

A job is an entry point: it calls services (which flush) and commits at the end.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from helpdesk.core import metrics
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.ops import retention as retention_rules
from helpdesk.sla.services import recompute_open
from helpdesk.sla.sweep import sweep
from helpdesk.tickets.services import close_resolved
from workers import app_context

log = logging.getLogger(__name__)

#: Upper bound on service calls per run, so a misbehaving batch cannot loop forever.
MAX_BATCHES = 1000


def close_resolved_tickets() -> int:
    """Close tickets resolved more than AUTO_CLOSE_DAYS ago; return how many."""
    with app_context() as app:
        older_than = timedelta(days=app.config["AUTO_CLOSE_DAYS"])
        now = utcnow()
        total = 0
        for _ in range(MAX_BATCHES):  # the service closes a bounded batch per call
            closed = close_resolved(now=now, older_than=older_than)
            db.session.commit()
            total += closed
            if not closed:
                break
        log.info("closed %d resolved tickets", total)
        return total


def retention() -> int:
    """Anonymise the tickets closed more than RETENTION_YEARS ago (weekly)."""
    with app_context() as app:
        now = utcnow()
        before = retention_rules.cutoff(now, app.config.get("RETENTION_YEARS", 0))
        if before is None:
            return 0
        return retention_rules.run(before, now,
                                   commit=db.session.commit).tickets


def sla_sweep() -> dict:
    """Escalate or warn about tickets whose level time ran out; commit per batch."""
    with app_context():
        # On SQLite each batch is one write transaction holding the database's write lock,
        # so batches stay small there (the web would wait on busy_timeout while a backlog
        # is escalated); PostgreSQL locks only the batch's rows.
        sqlite = db.session.get_bind().dialect.name == "sqlite"
        with metrics.SLA_SWEEP_SECONDS.time():
            result = sweep(now=utcnow(), batch_size=25 if sqlite else 200,
                           on_batch=db.session.commit)
        db.session.commit()
        return {"checked": result.checked, "escalated": len(result.escalated),
                "warned": len(result.warned), "notifications": result.notifications,
                "failed": len(result.failed)}


def sla_recompute_open() -> int:
    """Recompute the due times of all open tickets after a policy or calendar change."""
    with app_context():
        done = recompute_open(now=utcnow(), on_batch=db.session.commit)
        db.session.commit()
        return done
