"""RQ jobs of the inbound mail pipeline; safe to run twice."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from helpdesk.core.types import utcnow
from helpdesk.mail import imap, process, queries, store
from helpdesk.mail.store import enqueue_job
from workers import app_context


def process_inbound(inbound_id: int | None = None) -> str | None:
    """Turn stored message ``inbound_id`` into a ticket or reply (or quarantine it), and
    every other waiting message no worker has started, in transactions of up to
    MAIL_PROCESS_BATCH messages (``helpdesk.mail.process.run_job``). Returns its status."""
    with app_context():
        store.job_started()  # before looking: mail stored from now on queues the next job
        return process.run_job(inbound_id)


def poll_imap() -> dict:
    """Fetch the configured IMAP mailboxes (each message stored before it is flagged)."""
    with app_context():
        return imap.poll_all(now=utcnow())


def sweep_inbound() -> int:
    """Queue again the messages stored but not processed (e.g. Redis was down)."""
    with app_context():
        after = timedelta(seconds=current_app.config["MAIL_SWEEP_AFTER_SECONDS"])
        ids = queries.stale_received(utcnow(), after)
        for inbound_id in ids:
            enqueue_job(inbound_id)
        return len(ids)
