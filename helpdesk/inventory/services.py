"""Writers of the equipment registry. They flush, never commit; actor and now are explicit."""
from __future__ import annotations

import json
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.core.text import fold
from helpdesk.extensions import db
from helpdesk.inventory import reference
from helpdesk.inventory.models import (
    EquipmentCategory,
    EquipmentHistory,
    EquipmentItem,
    ItemStatus,
    TicketEquipment,
)
from helpdesk.org.models import School
from helpdesk.permissions import (
    can_edit_school_equipment,
    can_file_for,
    can_link_equipment,
    can_view_school_equipment,
)
from helpdesk.tickets.models import Ticket

#: Fields a person edits (and whose changes the history records), in form order.
EDITABLE = ("category_id", "manufacturer", "model", "serial_number", "registry_number",
            "location", "acquisition_date", "funding_programme", "status", "attributes", "notes")
_MAX = {"manufacturer": 120, "model": 200, "serial_number": 120, "registry_number": 60,
        "location": 120, "notes": 5000}


# --- normalising -------------------------------------------------------------------------

def serial_key(serial: str | None) -> str | None:
    """The comparison key of a serial number: upper case, no spaces; None when empty."""
    key = "".join((serial or "").split()).upper()
    return key or None


def search_text(item: EquipmentItem, category: EquipmentCategory | None) -> str:
    parts = [item.manufacturer, item.model, item.serial_number or "", item.registry_number,
             item.location, reference.location_label(item.location), item.notes[:200]]
    if category is not None:
        parts += [category.code, category.name_el, category.name_en]
    return fold(" ".join(p for p in parts if p))


def _clean(values: dict) -> dict:
    """Validate and normalise editable values; raises ValidationFailed naming the field."""
    out: dict = {}
    for key, value in values.items():
        if key not in EDITABLE:
            raise ValidationFailed(key, "Unknown field.")
        if key in _MAX:
            value = (value or "").strip()
            if len(value) > _MAX[key]:
                raise ValidationFailed(key, _l("At most %(n)s characters.", n=_MAX[key]))
            if key == "serial_number":
                value = value or None
        elif key == "category_id":
            if value is None or db.session.get(EquipmentCategory, int(value)) is None:
                raise ValidationFailed("category", "Unknown equipment category.")
            value = int(value)
        elif key == "status":
            if value not in {s.value for s in ItemStatus}:
                raise ValidationFailed("status", "Unknown status.")
        elif key == "funding_programme":
            value = (value or "").strip()
            if value and value not in reference.funding_programmes():
                raise ValidationFailed("funding_programme", "Unknown funding programme.")
        elif key == "acquisition_date":
            if value is not None and not isinstance(value, date):
                raise ValidationFailed("acquisition_date", "Not a date.")
        elif key == "attributes":
            value = clean_attributes(value or {})
        out[key] = value
    return out


def clean_attributes(values: dict) -> dict:
    """Keep non-empty category fields; integers where the field is a number."""
    result = {}
    for key, value in values.items():
        if value is None or str(value).strip() == "":
            continue
        if reference.ATTRIBUTE_KINDS.get(key) == "int":
            try:
                value = int(str(value).strip())
            except ValueError:
                raise ValidationFailed(key, "Not a whole number.") from None
        else:
            value = str(value).strip()[:200]
        result[key] = value
    return result


def check_serial_unique(manufacturer: str, serial: str | None, *, exclude_id: int | None = None):
    """Refuse a serial number another item of the same manufacturer already has."""
    key = serial_key(serial)
    if key is None:
        return
    stmt = (select(EquipmentItem, School).join(School, School.id == EquipmentItem.school_id)
            .where(EquipmentItem.manufacturer_folded == fold(manufacturer),
                   EquipmentItem.serial_key == key))
    if exclude_id is not None:
        stmt = stmt.where(EquipmentItem.id != exclude_id)
    row = db.session.execute(stmt.limit(1)).first()
    if row is not None:
        item, school = row
        raise Conflict(_l("Serial number %(serial)s of %(manufacturer)s is already registered: "
                          "item #%(id)s (%(label)s) of %(school)s (%(code)s)."),
                       serial=serial, manufacturer=manufacturer or "—", id=item.id,
                       label=item.label, school=school.name, code=school.code)


def _as_text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def record(item: EquipmentItem, actor: User | None, now: datetime, field: str, old=None,
           new=None) -> None:
    db.session.add(EquipmentHistory(item_id=item.id, actor_id=actor.id if actor else None,
                                    at=now, field=field, old=_as_text(old), new=_as_text(new)))


# --- the registry ------------------------------------------------------------------------

def add_item(actor: User, school: School, *, now: datetime, **values) -> EquipmentItem:
    """Register a device of ``school``."""
    if not can_edit_school_equipment(actor, school.id):
        raise NotFound() if not can_view_school_equipment(actor, school.id) else PermissionDenied()
    values.setdefault("status", ItemStatus.IN_USE)
    if "category_id" not in values:
        raise ValidationFailed("category", "Unknown equipment category.")
    clean = _clean(values)
    check_serial_unique(clean.get("manufacturer", ""), clean.get("serial_number"))
    item = EquipmentItem(school_id=school.id, created_at=now, updated_at=now,
                         is_pending=clean["status"] == ItemStatus.PENDING, **clean)
    _derive(item)
    db.session.add(item)
    db.session.flush()
    record(item, actor, now, "created", None, item.label)
    return item


def _derive(item: EquipmentItem) -> None:
    item.manufacturer_folded = fold(item.manufacturer or "")
    item.serial_key = serial_key(item.serial_number)
    item.attributes = item.attributes or {}
    item.notes = item.notes or ""
    item.search_text = search_text(item, db.session.get(EquipmentCategory, item.category_id))


def edit_item(actor: User, item: EquipmentItem, *, now: datetime, **values) -> list[str]:
    """Change some fields; each change goes into the history. Returns the changed fields."""
    require_item(actor, item, edit=True)
    clean = _clean(values)
    changed = [k for k, v in clean.items() if getattr(item, k) != v]
    if not changed:
        return []
    manufacturer = clean.get("manufacturer", item.manufacturer)
    serial = clean.get("serial_number", item.serial_number)
    if "manufacturer" in changed or "serial_number" in changed:
        check_serial_unique(manufacturer, serial, exclude_id=item.id)
    for key in changed:
        old, new = getattr(item, key), clean[key]
        if key == "attributes":
            for attr in sorted(set(old or {}) | set(new)):
                if (old or {}).get(attr) != new.get(attr):
                    record(item, actor, now, f"attributes.{attr}", (old or {}).get(attr),
                           new.get(attr))
        else:
            record(item, actor, now, key, old, new)
        setattr(item, key, new)
    if item.is_pending and item.status != ItemStatus.PENDING:
        item.is_pending = False
    item.updated_at = now
    _derive(item)
    db.session.flush()
    return changed


def withdraw_item(actor: User, item: EquipmentItem, *, now: datetime, reason: str = "") -> None:
    """Take a device out of use for good (it stays in the registry and its history)."""
    require_item(actor, item, edit=True)
    if item.status == ItemStatus.WITHDRAWN:
        raise Conflict(_l("This item is already withdrawn."))
    set_status(item, ItemStatus.WITHDRAWN, actor, now)
    if reason.strip():
        record(item, actor, now, "withdraw_reason", None, reason.strip()[:2000])
    db.session.flush()


def set_status(item: EquipmentItem, status: str, actor: User | None, now: datetime) -> None:
    if item.status == status:
        return
    record(item, actor, now, "status", item.status, status)
    item.status = status
    if status != ItemStatus.PENDING:
        item.is_pending = False
    item.updated_at = now


def require_item(actor: User, item: EquipmentItem | None, *, edit: bool = False) -> EquipmentItem:
    """NotFound when the actor may not see the item's school; PermissionDenied when not edit."""
    if item is None or not can_view_school_equipment(actor, item.school_id):
        raise NotFound()
    if edit and not can_edit_school_equipment(actor, item.school_id):
        raise PermissionDenied()
    return item


# --- tickets and equipment ---------------------------------------------------------------

def _link(ticket: Ticket, item: EquipmentItem, actor: User, now: datetime, mark_faulty: bool):
    if item.school_id != ticket.school_id:
        raise NotFound(_l("That item is not in the registry of the request's school."))
    existing = db.session.get(TicketEquipment, (ticket.id, item.id))
    if existing is not None:
        return existing
    link = TicketEquipment(ticket_id=ticket.id, item_id=item.id, linked_by_id=actor.id,
                           linked_at=now)
    db.session.add(link)
    record(item, actor, now, "linked", None, ticket.ref)
    if mark_faulty and item.status == ItemStatus.IN_USE:
        set_status(item, ItemStatus.FAULTY, actor, now)
    return link


def link_items(actor: User, ticket: Ticket, items, *, now: datetime,
               mark_faulty: bool = False) -> int:
    """A technician at the ticket's unit points the ticket at items of its school."""
    if not can_link_equipment(actor, ticket):
        raise PermissionDenied()
    count = 0
    for item in items:
        _link(ticket, item, actor, now, mark_faulty)
        count += 1
    db.session.flush()
    return count


def unlink_item(actor: User, ticket: Ticket, item: EquipmentItem, *, now: datetime) -> None:
    if not can_link_equipment(actor, ticket):
        raise PermissionDenied()
    link = db.session.get(TicketEquipment, (ticket.id, item.id))
    if link is None:
        raise NotFound()
    db.session.delete(link)
    record(item, actor, now, "unlinked", ticket.ref, None)
    db.session.flush()


def link_on_filing(actor: User, ticket: Ticket, item_ids, *, now: datetime,
                   mark_faulty: bool = True) -> int:
    """The filing school points its new request at items of its own registry."""
    if not can_file_for(actor, ticket.school_id):
        raise PermissionDenied()
    ids = {int(i) for i in item_ids}
    if not ids:
        return 0
    items = db.session.scalars(select(EquipmentItem).where(
        EquipmentItem.id.in_(ids), EquipmentItem.school_id == ticket.school_id)).all()
    if len(items) != len(ids):
        raise NotFound(_l("That item is not in the registry of the request's school."))
    for item in sorted(items, key=lambda i: i.id):
        _link(ticket, item, actor, now, mark_faulty)
    db.session.flush()
    return len(items)


def create_pending_item(actor: User, school: School, *, description: str, now: datetime,
                        category: EquipmentCategory | None = None, manufacturer: str = "",
                        model: str = "", serial_number: str = "",
                        location: str = "") -> EquipmentItem:
    """A device "not in the registry": described now, completed by the school later."""
    if not (can_file_for(actor, school.id) or can_edit_school_equipment(actor, school.id)):
        raise PermissionDenied()
    description = (description or "").strip()
    if len(description) < 3:
        raise ValidationFailed("equipment_description",
                               "Describe the device that is not in the registry.")
    if category is None:
        category = db.session.scalar(select(EquipmentCategory).where(
            EquipmentCategory.code == "PC-DESKTOP"))
    return _add_unchecked(actor, school, now, category_id=category.id, manufacturer=manufacturer,
                          model=model, serial_number=serial_number, location=location,
                          notes=description[:5000], status=ItemStatus.PENDING)


def _add_unchecked(actor, school, now, **values) -> EquipmentItem:
    clean = _clean(values)
    check_serial_unique(clean.get("manufacturer", ""), clean.get("serial_number"))
    item = EquipmentItem(school_id=school.id, created_at=now, updated_at=now,
                         is_pending=clean.get("status") == ItemStatus.PENDING, **clean)
    _derive(item)
    db.session.add(item)
    db.session.flush()
    record(item, actor, now, "created", None, item.label)
    return item


def restore_after_resolve(ticket: Ticket, actor: User | None, now: datetime) -> int:
    """Set the ticket's faulty / in-repair items back in use (after it is resolved)."""
    if actor is not None and not can_link_equipment(actor, ticket):
        raise PermissionDenied()
    items = db.session.scalars(
        select(EquipmentItem).join(TicketEquipment, TicketEquipment.item_id == EquipmentItem.id)
        .where(TicketEquipment.ticket_id == ticket.id,
               EquipmentItem.status.in_((ItemStatus.FAULTY, ItemStatus.IN_REPAIR)))).all()
    for item in items:
        set_status(item, ItemStatus.IN_USE, actor, now)
    db.session.flush()
    return len(items)


def load_categories() -> int:
    """Insert or refresh the equipment categories from data/equipment_categories.csv."""
    existing = {c.code: c for c in db.session.scalars(select(EquipmentCategory))}
    for row in reference.categories_csv():
        cat = existing.get(row["code"]) or EquipmentCategory(code=row["code"])
        cat.name_el, cat.name_en = row["name_el"], row["name_en"]
        cat.group, cat.inventory_kind = row["group_el"], row["inventory_kind"][:100]
        cat.has_serial = row["has_serial"]
        db.session.add(cat)
    db.session.flush()
    return len(reference.categories_csv())
