"""The one writer of the audit log (flush only: the caller's transaction keeps the change
and its record together)."""
from __future__ import annotations

from datetime import datetime

from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db


def record(actor, action: str, object_type: str, object_id: int | None, *,
           before: dict | None, after: dict | None, now: datetime) -> AuditEntry:
    """Write who (``actor``; the system is recorded as no user) did ``action`` to the object,
    with its fields before and after (JSON-ready values)."""
    entry = AuditEntry(at=now, actor_id=getattr(actor, "id", None), action=action,
                       object_type=object_type, object_id=object_id, before=before,
                       after=after)
    db.session.add(entry)
    return entry
