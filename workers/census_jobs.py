"""RQ job of census campaigns: the daily reminders to schools that have not submitted."""
from __future__ import annotations

import logging

from helpdesk.census.services import send_due_reminders
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from workers import app_context

log = logging.getLogger(__name__)


def send_census_reminders() -> int:
    """Queue the census reminders due today; safe to run twice (each is sent once)."""
    with app_context():
        queued = send_due_reminders(utcnow())
        db.session.commit()
        log.info("queued %d census reminders", queued)
        return queued
