"""The equipment part of the filing form: the school's items to pick, or a pending item."""
from __future__ import annotations

from flask_babel import get_locale

from helpdesk.core.text import by_label
from helpdesk.extensions import db
from helpdesk.inventory import queries, services
from helpdesk.inventory.models import EquipmentCategory


def prepare_form(form, school_id: int) -> dict:
    """Fill the form's equipment choices; return the template's extra context."""
    items = queries.school_items_for_picker(school_id)
    english = str(get_locale()) == "en"
    cats = queries.categories()
    form.equipment.choices = [(i.id, i.label) for i in items]
    form.equipment_category.choices = [(0, "—")] + by_label(
        (c.id, c.name_en if english else c.name_el) for c in cats)
    return {"equipment_items": items}


def link_from_form(actor, ticket, form, now) -> None:
    """Link the picked items; create and link a pending item for "not in the registry"."""
    services.link_on_filing(actor, ticket, form.equipment.data or [], now=now)
    if form.not_in_registry.data:
        category = (db.session.get(EquipmentCategory, form.equipment_category.data)
                    if form.equipment_category.data else None)
        item = services.create_pending_item(actor, ticket.school, category=category,
                                            description=form.equipment_description.data or "",
                                            now=now)
        services.link_on_filing(actor, ticket, [item.id], now=now)
