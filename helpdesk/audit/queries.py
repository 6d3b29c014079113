"""Reads of the audit log."""
from __future__ import annotations

from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db


def recent(prefix: str, limit: int = 30) -> list[AuditEntry]:
    """The latest entries whose action starts with ``prefix`` (e.g. "sla."), newest first."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.startswith(prefix, autoescape=True))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)).unique())


def for_object(object_type: str, object_id: int, limit: int = 100) -> list[AuditEntry]:
    """The entries of one object (e.g. a person's page), newest first."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == object_type,
                                 AuditEntry.object_id == object_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)).unique())
