"""Reads of canned replies: those an actor may insert, scoped by helpdesk.permissions, and
the placeholder values of a ticket."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from helpdesk.canned import placeholders
from helpdesk.canned.models import CannedReply
from helpdesk.core.display import localized
from helpdesk.extensions import db
from helpdesk.org.models import SupportUnit
from helpdesk.permissions import can_edit_canned_reply, canned_reply_scope, is_administrator


def usable(actor) -> list[CannedReply]:
    """The replies ``actor`` may insert: their units' first, then the shared ones, by title
    (one query)."""
    return list(db.session.scalars(
        select(CannedReply).where(canned_reply_scope(actor))
        .options(joinedload(CannedReply.unit))
        .order_by(case((CannedReply.unit_id.is_(None), 1), else_=0), CannedReply.unit_id,
                  CannedReply.title, CannedReply.id)))


def visible_reply(actor, reply_id: int) -> CannedReply | None:
    return db.session.scalar(select(CannedReply).where(
        CannedReply.id == reply_id, canned_reply_scope(actor)))


def ticket_values(ticket, actor) -> dict[str, str]:
    """What the placeholders of a reply on ``ticket`` written by ``actor`` become."""
    return {"school": ticket.school.name, "school_code": ticket.school.code,
            "ref": ticket.ref or "", "subject": ticket.subject,
            "technician": getattr(actor, "name", "") or "",
            "unit": localized(ticket.unit), "category": localized(ticket.category)}


def rendered(reply: CannedReply, ticket, actor) -> str:
    return placeholders.render(reply.body, ticket_values(ticket, actor))



SHARED = "shared"


def writable_units(actor) -> list[tuple[str, str]]:
    """The choices of "whose reply" ``actor`` may write: the shared (national) ones, then
    their units (administrators: every unit), as (value, label)."""
    choices = [(SHARED, _("Shared by every unit (national)"))] \
        if can_edit_canned_reply(actor, None) else []
    stmt = select(SupportUnit).order_by(SupportUnit.level, SupportUnit.id)
    if not is_administrator(actor):
        stmt = stmt.where(SupportUnit.id.in_(sorted(getattr(actor, "managed_unit_ids", ()))))
    return choices + [(str(u.id), localized(u)) for u in db.session.scalars(stmt)
                      if can_edit_canned_reply(actor, u.id)]
