"""The message bus: one table of handlers, run in the transaction of the change."""
from __future__ import annotations

import inspect

import pytest
from sqlalchemy import select

from helpdesk import bus, events
from helpdesk.api import webhooks
from helpdesk.api.webhook_models import WebhookDelivery
from helpdesk.core import aftercommit
from helpdesk.core.types import utcnow
from helpdesk.extensions import db as _db
from helpdesk.handlers import HANDLERS
from helpdesk.outbox.models import Notification
from helpdesk.sla.models import SlaPolicy
from helpdesk.sla.sweep import sweep
from helpdesk.tickets import services
from tests.factories import World, at, make_ticket


@pytest.fixture
def w(db):
    return World()


def _concrete_events():
    bases = {events.Event, events.TicketEvent, events.SlaEvent}
    return [c for _, c in inspect.getmembers(events, inspect.isclass)
            if issubclass(c, events.Event) and c not in bases]


def test_every_event_kind_has_its_own_entry_in_the_table():
    found = _concrete_events()
    assert len(found) >= 18
    missing = [c.__name__ for c in found if not HANDLERS.get(c)]
    assert missing == []
    assert all(callable(h) for hs in HANDLERS.values() for h in hs)


def test_every_ticket_event_kind_maps_to_its_event():
    for cls in events.TICKET_EVENTS.values():
        assert cls.__name__.startswith("Ticket") and HANDLERS[cls]


def test_ticket_events_are_handled_at_the_commit_not_at_the_flush(w):
    t = make_ticket(w.user_a)
    _db.session.flush()
    mine = select(Notification).where(Notification.ticket_id == t.id)
    assert _db.session.scalars(mine).all() == []
    _db.session.commit()
    kinds = {n.kind for n in _db.session.scalars(mine)}
    assert kinds == {"ack", "new_ticket"}


def test_a_rollback_forgets_the_recorded_events(w):
    make_ticket(w.user_a)
    _db.session.flush()
    assert _db.session.info.get(bus._EVENTS)
    _db.session.rollback()
    assert not _db.session.info.get(bus._EVENTS) and aftercommit.pending() == []


def test_paused_records_nothing(w):
    with bus.paused():
        t = make_ticket(w.user_a)
        _db.session.commit()
    assert _db.session.scalars(select(Notification).where(
        Notification.ticket_id == t.id)).all() == []


def _subscribe(w, names):
    webhooks.subscribe(w.admin, "http://127.0.0.1/hook", names, now=at(0), allow_private=True)
    _db.session.commit()


def _deliveries(name):
    return _db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.event == name)).all()


def test_an_sla_breach_is_mailed_and_announced_to_webhooks_once(w):
    _subscribe(w, ["sla.breached"])
    _db.session.add(SlaPolicy(priority=2, category_id=None, first_response_minutes=240,
                              resolution_minutes=2100, level1_minutes=60, level2_minutes=60,
                              level3_minutes=60, warn_ratio=0.75, action_on_level_breach="warn"))
    t = make_ticket(w.user_a)
    services.claim(w.l1, t, now=at(1))
    _db.session.commit()
    for minutes in (70, 75, 200):
        sweep(now=at(minutes))
        _db.session.commit()
    sent = _deliveries("sla.breached")
    assert len(sent) == 1 and sent[0].payload["ticket"]["ref"] == t.ref
    assert len(_db.session.scalars(select(Notification).where(
        Notification.kind == "sla_breach")).all()) == 2


def test_an_equipment_change_goes_to_the_webhooks(w):
    from helpdesk.inventory import services as inventory
    from helpdesk.inventory.models import EquipmentCategory

    _subscribe(w, ["equipment.changed"])
    kind = _db.session.scalar(select(EquipmentCategory).where(EquipmentCategory.code == "PRINTER"))
    item = inventory.add_item(w.user_a, w.school_a, now=at(0), category_id=kind.id,
                              manufacturer="HP", model="LaserJet P2055")
    _db.session.commit()
    assert _deliveries("equipment.changed") and _deliveries("equipment.changed")[0].payload[
        "equipment"]["id"] == item.id


def test_the_unknown_sender_is_answered_once_a_day(w):
    now = utcnow()
    assert bus.handle(events.UnknownSenderQuarantined("who@example.org", now)) == [1]
    assert bus.handle(events.UnknownSenderQuarantined("who@example.org", now)) == [0]
