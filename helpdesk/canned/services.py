"""The writer of canned replies: create, change, delete; each change audited.

Each writer takes the actor and ``now``, checks helpdesk.permissions.can_edit_canned_reply
for the unit the reply belongs to (before and after a change), validates (ValidationFailed
naming the field), writes an audit entry ("canned.reply.<verb>"), flushes and never
commits.
"""
from __future__ import annotations

from datetime import datetime

from helpdesk.audit.services import record
from helpdesk.canned.models import CannedReply
from helpdesk.core.errors import PermissionDenied, ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import SupportUnit
from helpdesk.permissions import can_edit_canned_reply

TITLE_MAX = 120
BODY_MAX = 20000


def fields(reply: CannedReply | None) -> dict | None:
    """A canned reply as the audit log keeps it."""
    if reply is None:
        return None
    return {"unit_id": reply.unit_id, "title": reply.title, "body": reply.body}


def _clean(title: str, body: str, unit_id: int | None) -> tuple[str, str]:
    title = " ".join((title or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not title:
        raise ValidationFailed("title", "Give the canned reply a title.")
    if len(title) > TITLE_MAX:
        raise ValidationFailed("title", "The title may be at most %(max)d characters.",
                               max=TITLE_MAX)
    if len(body) < 2:
        raise ValidationFailed("body", "Write the text of the canned reply.")
    if len(body) > BODY_MAX:
        raise ValidationFailed("body", "The text may be at most %(max)d characters.",
                               max=BODY_MAX)
    if unit_id is not None and db.session.get(SupportUnit, unit_id) is None:
        raise ValidationFailed("unit", "There is no such support unit.")
    return title, body


def _require_edit(actor, unit_id: int | None) -> None:
    if not can_edit_canned_reply(actor, unit_id):
        raise PermissionDenied()


def create(actor, *, unit_id: int | None, title: str, body: str, now: datetime) -> CannedReply:
    """A new canned reply of ``unit_id`` (None: shared by every unit)."""
    _require_edit(actor, unit_id)
    title, body = _clean(title, body, unit_id)
    reply = CannedReply(unit_id=unit_id, title=title, body=body,
                        created_by_id=getattr(actor, "id", None), created_at=now, updated_at=now)
    db.session.add(reply)
    db.session.flush()
    record(actor, "canned.reply.create", "canned_reply", reply.id, before=None,
           after=fields(reply), now=now)
    return reply


def update(actor, reply: CannedReply, *, unit_id: int | None, title: str, body: str,
           now: datetime) -> CannedReply:
    """Change a canned reply; moving it to another unit (or to the shared ones) needs the
    right to edit both."""
    _require_edit(actor, reply.unit_id)
    _require_edit(actor, unit_id)
    title, body = _clean(title, body, unit_id)
    before = fields(reply)
    reply.unit_id, reply.title, reply.body, reply.updated_at = unit_id, title, body, now
    db.session.flush()
    if fields(reply) != before:
        record(actor, "canned.reply.update", "canned_reply", reply.id, before=before,
               after=fields(reply), now=now)
    return reply


def delete(actor, reply: CannedReply, *, now: datetime) -> None:
    _require_edit(actor, reply.unit_id)
    record(actor, "canned.reply.delete", "canned_reply", reply.id, before=fields(reply),
           after=None, now=now)
    db.session.delete(reply)
    db.session.flush()

