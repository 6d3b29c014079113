"""Reads of the equipment registry, every one scoped by helpdesk.permissions."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from helpdesk.accounts.models import User
from helpdesk.core.text import like_pattern
from helpdesk.extensions import db
from helpdesk.inventory.models import (
    EquipmentCategory,
    EquipmentHistory,
    EquipmentItem,
    ImportRun,
    ItemStatus,
    TicketEquipment,
)
from helpdesk.permissions import can_view_import, equipment_scope, scope_tickets
from helpdesk.tickets.models import Ticket


@dataclass
class ItemFilters:
    category: str = ""
    status: str = ""
    location: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> ItemFilters:
        try:
            page = max(1, int(args.get("page", 1)))
        except ValueError:
            page = 1
        return cls(category=args.get("category", "")[:30], status=args.get("status", "")[:12],
                   location=args.get("location", "")[:120], q=args.get("q", "")[:100].strip(),
                   page=page)


def items_statement(actor: User, school_id: int | None, f: ItemFilters | None = None) -> Select:
    """Items the actor may see, of one school (or the whole scope), filtered."""
    f = f or ItemFilters()
    stmt = select(EquipmentItem).where(equipment_scope(actor))
    if school_id is not None:
        stmt = stmt.where(EquipmentItem.school_id == school_id)
    if f.category:
        stmt = stmt.join(EquipmentCategory, EquipmentCategory.id == EquipmentItem.category_id)
        stmt = stmt.where(EquipmentCategory.code == f.category)
    if f.status:
        stmt = stmt.where(EquipmentItem.status == f.status)
    elif not f.q:
        stmt = stmt.where(EquipmentItem.status != ItemStatus.WITHDRAWN)
    if f.location:
        stmt = stmt.where(EquipmentItem.location == f.location)
    if f.q:
        stmt = stmt.where(EquipmentItem.search_text.like(like_pattern(f.q), escape="\\"))
    return stmt


def list_items(actor: User, school_id: int | None, f: ItemFilters, per_page: int = 50):
    """(items of the page, total) with their categories loaded."""
    stmt = items_statement(actor, school_id, f)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = db.session.scalars(
        stmt.options(joinedload(EquipmentItem.category))
        .order_by(EquipmentItem.category_id, EquipmentItem.registry_number, EquipmentItem.id)
        .limit(per_page).offset((f.page - 1) * per_page)).all()
    return items, total


def school_items_for_picker(school_id: int) -> list[EquipmentItem]:
    """The school's current items, for the filing form (its own registry only)."""
    return db.session.scalars(
        select(EquipmentItem).options(joinedload(EquipmentItem.category))
        .where(EquipmentItem.school_id == school_id,
               EquipmentItem.status != ItemStatus.WITHDRAWN)
        .order_by(EquipmentItem.category_id, EquipmentItem.registry_number, EquipmentItem.id)
        .limit(2000)).all()


def get_visible_item(actor: User, item_id: int) -> EquipmentItem | None:
    return db.session.scalar(
        select(EquipmentItem).options(joinedload(EquipmentItem.category),
                                      joinedload(EquipmentItem.school))
        .where(EquipmentItem.id == item_id, equipment_scope(actor)))


def item_history(item: EquipmentItem) -> list[EquipmentHistory]:
    return db.session.scalars(
        select(EquipmentHistory).options(joinedload(EquipmentHistory.actor))
        .where(EquipmentHistory.item_id == item.id)
        .order_by(EquipmentHistory.at.desc(), EquipmentHistory.id.desc())).all()


def item_tickets(actor: User, item: EquipmentItem) -> list[tuple[Ticket, TicketEquipment]]:
    """The tickets about this item that the actor may see, newest first."""
    stmt = (select(Ticket, TicketEquipment)
            .join(TicketEquipment, TicketEquipment.ticket_id == Ticket.id)
            .where(TicketEquipment.item_id == item.id)
            .order_by(Ticket.created_at.desc()))
    return list(db.session.execute(scope_tickets(actor, stmt)).tuples())


def ticket_items(ticket: Ticket) -> list[EquipmentItem]:
    """The items a ticket is about, with their categories: one query."""
    return db.session.scalars(
        select(EquipmentItem).options(joinedload(EquipmentItem.category))
        .join(TicketEquipment, TicketEquipment.item_id == EquipmentItem.id)
        .where(TicketEquipment.ticket_id == ticket.id)
        .order_by(TicketEquipment.linked_at, EquipmentItem.id)).all()


def categories() -> list[EquipmentCategory]:
    return db.session.scalars(select(EquipmentCategory).where(EquipmentCategory.is_active.is_(True))
                              .order_by(EquipmentCategory.group, EquipmentCategory.code)).all()


def school_locations(school_id: int) -> list[str]:
    return list(db.session.scalars(
        select(EquipmentItem.location).where(EquipmentItem.school_id == school_id,
                                             EquipmentItem.location != "")
        .distinct().order_by(EquipmentItem.location)))


def visible_import(actor: User, run_id: int) -> ImportRun | None:
    run = db.session.get(ImportRun, run_id)
    if run is None or actor is None:
        return None
    return run if can_view_import(actor, run) else None
