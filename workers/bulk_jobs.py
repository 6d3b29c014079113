"""Bulk actions of a queue too large for one request (helpdesk.tickets.bulk_views)."""
from __future__ import annotations

import logging

from helpdesk.accounts.models import User
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import bulk
from workers import app_context

log = logging.getLogger(__name__)

#: Tickets per transaction: a batch commits its changes and their notifications together.
BATCH = 100


def run_bulk(actor_id: int, name: str, values: dict, ids: list[int], batch: int = BATCH) -> dict:
    """Run the bulk action ``name`` for the user ``actor_id`` on ``ids``, ``batch`` tickets
    per commit; returns {"done": [refs], "failed": [[ref, why], …]}. Run twice, it finds
    the changes made and reports what the services say of them (no change is repeated:
    the services refuse or do nothing)."""
    with app_context():
        actor = db.session.get(User, actor_id)
        done, failed = [], []
        if actor is None:
            return {"done": done, "failed": [[f"#{i}", "no such user"] for i in ids]}
        action, arguments = bulk.prepare(name, values)
        for start in range(0, len(ids), batch):
            outcome = bulk.apply(actor, action, arguments, ids[start:start + batch],
                                 now=utcnow())
            db.session.commit()
            done += outcome.done
            failed += [list(x) for x in outcome.failed]
        log.info("bulk %s by user %s: %d changed, %d not", name, actor_id, len(done),
                 len(failed))
        return {"done": done, "failed": failed}
