"""RQ job of the equipment registry: import an uploaded inventory file."""
from __future__ import annotations

from helpdesk.inventory import runs
from workers import app_context


def import_inventory(upload_id: int) -> dict:
    """Run ImportRun ``upload_id``; safe to run twice. Returns its counts."""
    with app_context():
        run = runs.process(upload_id)
        if run is None:
            return {}
        return {"status": run.status, "created": run.created_count, "updated": run.updated_count,
                "unchanged": run.unchanged_count, "errors": run.error_count}
