"""Running a stored import (ImportRun): shared by the RQ job, the web (inline mode) and tests.

This is entry-point code: it commits after each chunk so the browser sees the progress
and a crash loses at most one chunk (the import is an upsert: running it again completes it).
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app

from helpdesk.accounts.models import User
from helpdesk.core import aftercommit, filestore
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.inventory import importer
from helpdesk.inventory.models import ImportRun, ImportStatus
from helpdesk.permissions import import_school_ids

log = logging.getLogger(__name__)


def store_dir() -> Path:
    """Where the local backend keeps the import files."""
    return filestore.directory("inventory_imports")


def create_run(actor, filename: str, data: bytes, *, school_id: int | None) -> ImportRun:
    """Store the upload (the file store) and record a queued run (flushes)."""
    stored = filestore.write(db.session(), "inventory_imports", data,
                             suffix=".xlsx" if filename.lower().endswith(".xlsx") else ".csv")
    run = ImportRun(created_by_id=actor.id if actor else None, school_id=school_id,
                    filename=Path(filename).name[:200] or "upload", stored_name=stored,
                    status=ImportStatus.QUEUED, errors=[], created_at=utcnow())
    db.session.add(run)
    db.session.flush()
    return run


def context_for(run: ImportRun) -> importer.ImportContext:
    actor = db.session.get(User, run.created_by_id) if run.created_by_id else None
    allowed = None
    if actor is not None:
        stmt = import_school_ids(actor)
        allowed = None if stmt is None else set(db.session.scalars(stmt))
    return importer.ImportContext(actor_id=run.created_by_id, allowed_school_ids=allowed,
                                  only_school_id=run.school_id, source=run.filename)


def process(run_id: int) -> ImportRun | None:
    """Import the run's file; safe to run twice (a finished run is left alone)."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status == ImportStatus.DONE:
        return run
    run.status, run.started_at = ImportStatus.RUNNING, utcnow()
    db.session.commit()

    def checkpoint(result: importer.Result) -> None:
        _copy(run, result)
        db.session.commit()

    try:
        data = filestore.read("inventory_imports", run.stored_name)
        result = importer.import_file(data, run.filename, context_for(run), checkpoint=checkpoint)
    except importer.ImportFileError as exc:
        db.session.rollback()
        run.status, run.finished_at = ImportStatus.FAILED, utcnow()
        run.errors = [{"row": 0, "errors": [exc.error]}]
        db.session.commit()
        return run
    except Exception:
        db.session.rollback()
        log.exception("inventory import %s failed", run_id)
        run.status, run.finished_at = ImportStatus.FAILED, utcnow()
        db.session.commit()
        raise
    _copy(run, result)
    run.status, run.finished_at = ImportStatus.DONE, utcnow()
    db.session.commit()
    return run


def _copy(run: ImportRun, r: importer.Result) -> None:
    run.file_format, run.total_rows, run.processed_rows = r.file_format, r.total, r.processed
    run.created_count, run.updated_count = r.created, r.updated
    run.unchanged_count, run.error_count = r.unchanged, r.error_count
    run.errors = list(r.errors)


def enqueue(run: ImportRun) -> None:
    """Hand the run to the RQ worker (after commit); inline when so configured or Redis fails."""
    if current_app.config.get("INVENTORY_IMPORT_INLINE", current_app.testing):
        process(run.id)
        return

    if not aftercommit.enqueue(aftercommit.Job(
            "bulk", "workers.inventory_jobs.import_inventory", (run.id,), timeout=3600,
            owner=__name__, what="inventory import", fallback="running it inline")):
        process(run.id)  # nothing is lost: do it now, slowly
