"""RQ jobs of known outages: post an update to every linked ticket, in batches.

Each batch is its own transaction (helpdesk.incidents.services.post_batch: at most
rules.BATCH_SIZE tickets, a short lock), so the queues never wait on one long one; the
update's cursor moves with each commit, so a job that dies resumes after the last batch
it committed (run again by RQ, or by the ``incident-sweep``). Safe to run twice, even at
once: the update's row is locked per batch and every mail has its dedupe key.
"""
from __future__ import annotations

import logging

from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.incidents import services
from workers import app_context

log = logging.getLogger(__name__)

#: Upper bound on batches per run (a 200-ticket batch each: a million tickets).
MAX_BATCHES = 5000


def post_update(update_id: int) -> int:
    """Post IncidentUpdate ``update_id`` to its linked tickets; returns the batches run."""
    with app_context():
        return _run(update_id)


def _run(update_id: int) -> int:
    batches = 0
    for _ in range(MAX_BATCHES):
        more = services.post_batch(update_id, now=utcnow())
        db.session.commit()
        batches += 1
        if not more:
            break
    return batches


def sweep_incident_updates() -> int:
    """Finish the updates whose job never ran or died (Redis down, a worker lost)."""
    with app_context():
        pending = services.pending_updates()
        db.session.commit()
        for update_id in pending:
            _run(update_id)
        if pending:
            log.info("incident sweep: finished %d updates", len(pending))
        return len(pending)
