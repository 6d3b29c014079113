"""Technicians of a ticket's current unit change its category (e-mailed requests arrive in
MAIL_DEFAULT_CATEGORY): one service for the web and the API, an event in the timeline, and
no move between levels (issue 14)."""
import pytest
from sqlalchemy import select

from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.outbox.models import Notification
from helpdesk.tickets import services
from helpdesk.tickets.models import TicketEvent
from tests.factories import World, at, category, make_ticket, resolution, unit_at
from tests.web import act, csrf_token, login

REASON = "Στάλθηκε με e-mail, αφορά τον εκτυπωτή."


@pytest.fixture
def w(db):
    return World()


def category_events(ticket):
    return list(_db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "category")))


def test_the_category_changes_with_an_event_and_the_level_stays(w):
    t = make_ticket(w.user_a, code="SW")  # as a mailed request arrives
    unit, level = t.unit_id, t.level
    assert category("PSD-APP").first_level == 2  # would have started at level 2
    services.change_category(w.l1, t, category("PSD-APP"), now=at(5), reason=REASON)
    assert t.category_id == category("PSD-APP").id
    assert (t.level, t.unit_id) == (level, unit) == (1, unit_at(w.school_a, 1).id)
    (event,) = category_events(t)
    assert (event.actor_id, event.field, event.old_value, event.new_value) == (
        w.l1.id, "category", "SW", "PSD-APP")
    assert event.reason == REASON and not event.is_shared_with_school and not event.is_internal


def test_the_same_category_records_nothing(w):
    t = make_ticket(w.user_a, code="SW")
    services.change_category(w.l1, t, category("SW"), now=at(5))
    assert category_events(t) == []


def test_only_the_current_unit_changes_it_while_it_is_open(w):
    t = make_ticket(w.user_a, code="SW")
    for who in (w.l2, w.l1_far):  # never at their units: no such ticket for them
        with pytest.raises(NotFound):
            services.change_category(who, t, category("HW-PRN"), now=at(5))
    services.escalate(w.l1, t, "Θέλει το ΠΣΔ.", now=at(6))
    for who in (w.user_a, w.l1):  # the school, and the unit it has left
        with pytest.raises(PermissionDenied):
            services.change_category(who, t, category("HW-PRN"), now=at(7))
    services.change_category(w.l2, t, category("NET"), now=at(8))
    services.change_category(w.admin, t, category("NET-LAN"), now=at(9))
    services.resolve(w.l2, t, resolution(), "Λύθηκε εξ αποστάσεως.", now=at(10))
    with pytest.raises(PermissionDenied):
        services.change_category(w.l2, t, category("HW-PRN"), now=at(11))
    assert [e.new_value for e in category_events(t)] == ["NET", "NET-LAN"]
    assert t.level == 2


def test_an_unknown_or_retired_category_is_refused(w):
    t = make_ticket(w.user_a, code="SW")
    with pytest.raises(ValidationFailed):
        services.change_category(w.l1, t, None, now=at(5))
    retired = category("HW-PROJ")
    retired.is_active = False
    with pytest.raises(ValidationFailed):
        services.change_category(w.l1, t, retired, now=at(5))
    with pytest.raises(ValidationFailed):
        services.change_category(w.l1, t, category("HW-PRN"), now=at(5), reason="x" * 501)


def test_the_school_is_not_mailed_of_a_category_change(w):
    t = make_ticket(w.user_a, code="SW")
    _db.session.commit()
    before = _db.session.scalars(select(Notification.id)).all()
    services.change_category(w.l1, t, category("HW-PRN"), now=at(5), reason=REASON)
    _db.session.commit()
    new = _db.session.scalars(select(Notification).where(Notification.id.not_in(before))).all()
    assert [n for n in new if n.recipient_email == w.school_a.email] == []


def test_the_ticket_page_changes_it_and_the_school_sees_the_change_without_the_reason(client, w):
    t = make_ticket(w.user_a, code="SW")
    _db.session.commit()
    login(client, w.l1)
    page = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "/category" in page and "Αλλαγή κατηγορίας" in page
    response = act(client, t.ref, "category", category=str(category("HW-PRN").id), reason=REASON)
    assert response.status_code == 302
    staff = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "ev-category" in staff and REASON in staff
    assert "Λογισμικό → " in staff and "Εκτυπωτής" in staff
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    login(client, w.user_a)
    school = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "ev-category" in school and "Λογισμικό → " in school
    assert REASON not in school and "/category" not in school


def test_the_web_refuses_others(client, w):
    t = make_ticket(w.user_a, code="SW")
    _db.session.commit()
    login(client, w.user_a)
    assert act(client, t.ref, "category", category=str(category("HW-PRN").id)).status_code == 403
    assert category_events(t) == []


def test_the_api_changes_it_through_the_same_service(client, w):
    from tests.test_api import bearer

    t = make_ticket(w.user_a, code="SW")
    url = f"/api/v1/tickets/{t.ref}/category"
    changed = client.post(url, headers=bearer(w.l1), json={"category": "HW-PRN", "reason": REASON})
    assert changed.status_code == 200, changed.json
    assert changed.json["category"] == "HW-PRN" and changed.json["level"] == 1
    assert client.post(url, headers=bearer(w.l1), json={"category": "NOPE"}).status_code == 422
    assert client.post(url, headers=bearer(w.user_a), json={"category": "NET"}).status_code == 403
    assert client.post(url, headers=bearer(w.l1_far), json={"category": "NET"}).status_code == 404
    events = client.get(f"/api/v1/tickets/{t.ref}/events", headers=bearer(w.user_a)).json["items"]
    (seen,) = [e for e in events if e["kind"] == "category"]
    assert (seen["old_value"], seen["new_value"], seen["reason"]) == ("SW", "HW-PRN", None)
