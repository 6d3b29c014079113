"""The equipment registry's services and permissions (SQLite, and PostgreSQL)."""
from datetime import date

import pytest
from sqlalchemy import select

from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.inventory import queries, services
from helpdesk.inventory.models import (
    EquipmentCategory,
    EquipmentHistory,
    EquipmentItem,
    ItemStatus,
    TicketEquipment,
)
from helpdesk.permissions import can_view_school_equipment, equipment_scope
from tests.factories import World, at, make_ticket


@pytest.fixture
def w(db):
    return World()


def cat(code="PRINTER"):
    return _db.session.scalar(select(EquipmentCategory).where(EquipmentCategory.code == code))


def add(actor, school, **kw):
    values = dict(category_id=cat().id, manufacturer="HP", model="LaserJet P2055",
                  serial_number="CNB1234567", registry_number="Π-17", location="SEPEHY")
    values.update(kw)
    return services.add_item(actor, school, now=at(0), **values)


def history(item):
    return [(h.field, h.old, h.new) for h in _db.session.scalars(
        select(EquipmentHistory).where(EquipmentHistory.item_id == item.id).order_by(EquipmentHistory.id))]


def test_categories_are_seeded_from_the_csv(db):
    assert cat("PC-DESKTOP").name_el.startswith("Σταθερός")
    assert cat("UPS").has_serial == "yes"


def test_a_school_adds_edits_and_withdraws_with_history(w):
    item = add(w.user_a, w.school_a, attributes={"print_type": "laser α/μ"})
    assert item.status == ItemStatus.IN_USE and item.serial_key == "CNB1234567"
    services.edit_item(w.user_a, item, now=at(5), location="Γραφείο διευθυντή",
                       acquisition_date=date(2019, 5, 1), attributes={"print_type": "laser έγχρωμος"})
    services.withdraw_item(w.user_a, item, now=at(9), reason="Κατεστράφη")
    rows = history(item)
    assert rows[0][0] == "created"
    assert ("location", "SEPEHY", "Γραφείο διευθυντή") in rows
    assert ("acquisition_date", None, "2019-05-01") in rows
    assert ("attributes.print_type", "laser α/μ", "laser έγχρωμος") in rows
    assert ("status", "in_use", "withdrawn") in rows
    assert item.status == ItemStatus.WITHDRAWN
    assert "γραφειο" in item.search_text


def test_duplicate_serial_names_the_existing_item(w):
    first = add(w.user_a, w.school_a)
    with pytest.raises(Conflict) as exc:
        add(w.user_b, w.school_b, manufacturer="hp ", serial_number="cnb 1234567")
    assert str(first.id) in str(exc.value) and w.school_a.code in str(exc.value)
    assert "CNB1234567" in str(exc.value)
    # another manufacturer may use the same serial
    add(w.user_b, w.school_b, manufacturer="Epson", serial_number="CNB1234567")


def test_the_database_enforces_serial_uniqueness_too(w):
    add(w.user_a, w.school_a)
    dup = EquipmentItem(school_id=w.school_b.id, category_id=cat().id, manufacturer="HP",
                        manufacturer_folded="hp", serial_number="CNB1234567", serial_key="CNB1234567")
    _db.session.add(dup)
    with pytest.raises(Exception):
        with _db.session.begin_nested():
            _db.session.flush()


def test_bad_values_are_refused(w):
    with pytest.raises(ValidationFailed):
        add(w.user_a, w.school_a, status="broken")
    with pytest.raises(ValidationFailed):
        add(w.user_a, w.school_a, funding_programme="NOPE")
    with pytest.raises(ValidationFailed):
        add(w.user_a, w.school_a, attributes={"ram_gb": "πολλά"}, category_id=cat("PC-DESKTOP").id)


def test_a_school_cannot_see_or_touch_another_schools_registry(w):
    item = add(w.user_a, w.school_a)
    assert not can_view_school_equipment(w.user_b, w.school_a.id)
    with pytest.raises(NotFound):
        add(w.user_b, w.school_a, serial_number="X1")
    with pytest.raises(NotFound):
        services.edit_item(w.user_b, item, now=at(1), model="x")
    assert queries.get_visible_item(w.user_b, item.id) is None
    assert queries.get_visible_item(w.user_a, item.id) is item


def test_technicians_see_the_schools_their_units_serve(w):
    item = add(w.user_a, w.school_a)
    far = add(w.user_far, w.school_far, serial_number="FAR1")
    for tech in (w.l1, w.l2, w.l3, w.admin):
        assert queries.get_visible_item(tech, item.id) is not None
    assert queries.get_visible_item(w.l1_far, item.id) is None
    assert queries.get_visible_item(w.l1, far.id) is None
    visible = set(_db.session.scalars(select(EquipmentItem.id).where(equipment_scope(w.l1))))
    assert item.id in visible and far.id not in visible
    services.edit_item(w.l1, item, now=at(3), status=ItemStatus.IN_REPAIR)
    assert history(item)[-1] == ("status", "in_use", "in_repair")


def test_linking_on_filing_only_own_items_and_marks_faulty(w):
    mine = add(w.user_a, w.school_a)
    theirs = add(w.user_b, w.school_b, serial_number="B-1")
    t = make_ticket(w.user_a)
    with pytest.raises(NotFound):
        services.link_on_filing(w.user_a, t, [theirs.id], now=at(1))
    assert services.link_on_filing(w.user_a, t, [mine.id], now=at(1)) == 1
    assert mine.status == ItemStatus.FAULTY
    assert [i.id for i in queries.ticket_items(t)] == [mine.id]
    assert [tk.id for tk, _ in queries.item_tickets(w.user_a, mine)] == [t.id]
    assert queries.item_tickets(w.l1_far, mine) == []


def test_pending_item_for_a_device_not_in_the_registry(w):
    t = make_ticket(w.user_a)
    item = services.create_pending_item(w.user_a, w.school_a, description="Παλιός βιντεοπροβολέας στην αίθουσα 3",
                                        category=cat("PROJECTOR"), now=at(1))
    services.link_on_filing(w.user_a, t, [item.id], now=at(1))
    assert item.status == ItemStatus.PENDING and item.is_pending
    services.edit_item(w.user_a, item, now=at(2), status=ItemStatus.IN_USE, serial_number="PJ-9")
    assert not item.is_pending


def test_technicians_link_unlink_and_restore(w):
    item = add(w.user_a, w.school_a)
    other = add(w.user_b, w.school_b, serial_number="B-2")
    t = make_ticket(w.user_a)
    with pytest.raises(PermissionDenied):
        services.link_items(w.user_a, t, [item], now=at(1))
    with pytest.raises(PermissionDenied):
        services.link_items(w.l2, t, [item], now=at(1))  # not at the ticket's unit
    with pytest.raises(NotFound):
        services.link_items(w.l1, t, [other], now=at(1))
    services.link_items(w.l1, t, [item], now=at(1), mark_faulty=True)
    assert item.status == ItemStatus.FAULTY
    assert services.restore_after_resolve(t, w.l1, at(2)) == 1
    assert item.status == ItemStatus.IN_USE
    services.unlink_item(w.l1, t, item, now=at(3))
    assert _db.session.get(TicketEquipment, (t.id, item.id)) is None
    fields = [f for f, _, _ in history(item)]
    assert fields == ["created", "linked", "status", "status", "unlinked"]
