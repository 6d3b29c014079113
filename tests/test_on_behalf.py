"""Support staff file a request for a school of their area (a phone call, a visit): the
same service as the school's own filing, scoped to the area, with the channel recorded
and the school told as if it had filed (issue 14)."""
import pytest
from sqlalchemy import func, select

from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.inventory import services as inventory
from helpdesk.inventory.models import EquipmentCategory, TicketEquipment
from helpdesk.org.queries import find_schools
from helpdesk.outbox.models import Notification
from helpdesk.permissions import can_file_for, filing_school_ids
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket, TicketEvent
from tests.factories import World, at, category, make_school, unit_at
from tests.web import csrf_token, login

ON_BEHALF_EL = "εκ μέρους του σχολείου (τηλέφωνο)"


@pytest.fixture
def w(db):
    world = World()
    unit_at(world.school_a, 1).email = ""  # the unit is reached through its manager
    return world


def count_tickets() -> int:
    return _db.session.scalar(select(func.count(Ticket.id)))


def printer(w, school, serial="CN-1"):
    kind = _db.session.scalar(select(EquipmentCategory).where(EquipmentCategory.code == "PRINTER"))
    return inventory.add_item(w.admin, school, now=at(0), category_id=kind.id, manufacturer="HP",
                              model="LaserJet", serial_number=serial)


def file_for(actor, school, channel="phone", **kwargs):
    return services.open_ticket(actor, school=school, category=category(), subject="Ο εκτυπωτής",
                                description="Τηλεφώνησε η διευθύντρια.", now=at(0),
                                channel=channel, **kwargs)


# --- the area ---------------------------------------------------------------------------------

def test_each_level_files_for_the_schools_whose_chain_includes_its_unit(w):
    assert can_file_for(w.l1, w.school_a.id) and can_file_for(w.l1, w.school_b.id)
    assert not can_file_for(w.l1, w.school_far.id)
    assert can_file_for(w.l2, w.school_a.id) and not can_file_for(w.l2, w.school_far.id)
    assert can_file_for(w.l3, w.school_far.id)  # level 3 serves every school
    assert can_file_for(w.manager, w.school_a.id) and not can_file_for(w.manager, w.school_far.id)
    assert can_file_for(w.admin, w.school_far.id)
    assert not can_file_for(w.user_a, w.school_b.id)


def test_the_school_search_is_accent_insensitive_and_scoped_to_the_area(w):
    named = make_school("dide-thess-v", name="3ο Γυμνάσιο Καλαμαριάς")
    far = make_school("dipe-ach", name="3ο Γυμνάσιο Καλαμαριάς Αχαΐας")
    found = find_schools("γυμνασιο ΚΑΛΑΜΑΡΙΑΣ", filing_school_ids(w.l1))
    assert [s.id for s in found] == [named.id]
    assert {s.id for s in find_schools("καλαμαρια", filing_school_ids(w.admin))} == {named.id, far.id}
    assert [s.id for s in find_schools(named.code, filing_school_ids(w.l1))] == [named.id]
    assert named.id in [s.id for s in find_schools(named.code[:6], filing_school_ids(w.l1))]
    assert find_schools(far.code, filing_school_ids(w.l1)) == []
    assert find_schools("καλαμαρια", filing_school_ids(w.user_a)) == []


# --- the service ------------------------------------------------------------------------------

def test_a_technician_files_for_a_school_of_the_area_by_phone(w):
    t = file_for(w.l1, w.school_a)
    assert (t.school_id, t.created_by_id, t.channel) == (w.school_a.id, w.l1.id, "phone")
    assert (t.level, t.unit_id) == (1, unit_at(w.school_a, 1).id)  # routed as the school's own
    created = _db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                           TicketEvent.kind == "created"))
    assert created.actor_id == w.l1.id and created.is_shared_with_school
    assert created.reason == f"Υποβλήθηκε από {w.l1.name} {ON_BEHALF_EL}."


def test_the_school_gets_the_acknowledgement_as_if_it_had_filed_in_its_language(w):
    w.user_a.locale = "en"  # the school's account reads English
    t = file_for(w.l1, w.school_a, channel="visit")
    _db.session.commit()
    notes = {n.recipient_email: n for n in _db.session.scalars(
        select(Notification).where(Notification.ticket_id == t.id))}
    ack = notes[w.school_a.email]
    assert ack.kind == "ack" and ack.locale == "en" and t.ref in ack.subject
    assert f"Filed by {w.l1.name} on behalf of the school (during a visit)." in ack.body
    assert "We received your request" in ack.body
    assert notes[w.manager.email].kind == "new_ticket"  # the unit, as today
    assert w.l1.email not in notes  # nobody is told of their own filing


def test_the_acknowledgement_is_greek_for_a_greek_school(w):
    t = file_for(w.l1, w.school_a)
    _db.session.commit()
    ack = _db.session.scalar(select(Notification).where(
        Notification.ticket_id == t.id, Notification.recipient_email == w.school_a.email))
    assert ack.locale == "el" and ON_BEHALF_EL in ack.body and ON_BEHALF_EL in ack.body_html


def test_outside_the_area_nothing_is_created(w):
    before = count_tickets()
    with pytest.raises(PermissionDenied):
        file_for(w.l1, w.school_far)
    with pytest.raises(PermissionDenied):
        file_for(w.l2_far, w.school_a)
    assert count_tickets() == before


@pytest.mark.parametrize("channel", ["phone", "visit", "other", "fax"])
def test_a_school_files_only_on_its_own_channels(w, channel):
    with pytest.raises(ValidationFailed) as raised:
        file_for(w.user_a, w.school_a, channel=channel)
    assert raised.value.field == "channel"


def test_a_schools_own_filing_says_nothing_of_anyone_s_behalf(w):
    t = file_for(w.user_a, w.school_a, channel="web")
    created = _db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                           TicketEvent.kind == "created"))
    assert created.reason is None and created.reason_code is None and t.channel == "web"


def test_the_school_s_equipment_is_linked_and_another_school_s_refused(w):
    own, other = printer(w, w.school_a, "CN-A"), printer(w, w.school_b, "CN-B")
    t = file_for(w.l1, w.school_a)
    inventory.link_on_filing(w.l1, t, [own.id], now=at(0))
    with pytest.raises(NotFound):
        inventory.link_on_filing(w.l1, t, [other.id], now=at(0))
    linked = _db.session.scalars(select(TicketEquipment.item_id)
                                 .where(TicketEquipment.ticket_id == t.id)).all()
    assert linked == [own.id]


# --- the web ----------------------------------------------------------------------------------

def form_data(client, code, **overrides):
    data = {"category": str(category("HW-PRN").id), "subject": "Ο εκτυπωτής δεν τυπώνει",
            "description": "Τηλεφώνησε ο διευθυντής.", "priority": "2", "channel": "phone",
            "csrf_token": csrf_token(client, f"/tickets/new/school/{code}")}
    data.update(overrides)
    return data


def test_the_web_page_finds_the_school_and_files_for_it(client, w):
    item = printer(w, w.school_a, "CNBX1")
    _db.session.commit()
    login(client, w.l1)
    assert "/tickets/new/school" in client.get("/tickets").get_data(as_text=True)  # the nav link
    search = client.get("/tickets/new/school", query_string={"q": "γυμνασιο δοκιμης"})
    html = search.get_data(as_text=True)
    assert search.status_code == 200
    assert f"/tickets/new/school/{w.school_a.code}" in html
    assert f"/tickets/new/school/{w.school_far.code}" not in html
    looked = client.get("/tickets/new/school/lookup", query_string={"q": w.school_a.name.upper()})
    assert [s["code"] for s in looked.json["items"]] == [w.school_a.code]
    page = client.get(f"/tickets/new/school/{w.school_a.code}").get_data(as_text=True)
    assert w.school_a.name in page and "CNBX1" in page  # the school's own registry to pick from
    response = client.post(f"/tickets/new/school/{w.school_a.code}",
                           data=form_data(client, w.school_a.code, equipment=str(item.id)))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    ticket = _db.session.scalar(select(Ticket).order_by(Ticket.id.desc()))
    assert (ticket.school_id, ticket.channel, ticket.created_by_id) == (w.school_a.id, "phone", w.l1.id)
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Υποβλήθηκε από {w.l1.name} {ON_BEHALF_EL}." in shown
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    login(client, w.user_a)
    school_view = client.get(f"/tickets/{ticket.ref}").get_data(as_text=True)
    assert ON_BEHALF_EL in school_view and "LaserJet" in school_view


def test_the_web_refuses_a_school_outside_the_area_and_another_school_s_equipment(client, w):
    other = printer(w, w.school_b, "CN-B")
    _db.session.commit()
    login(client, w.l1)
    before = count_tickets()
    assert client.get(f"/tickets/new/school/{w.school_far.code}").status_code == 404
    token = csrf_token(client, f"/tickets/new/school/{w.school_a.code}")
    far = client.post(f"/tickets/new/school/{w.school_far.code}",
                      data={**form_data(client, w.school_a.code), "csrf_token": token})
    assert far.status_code == 404
    forged = client.post(f"/tickets/new/school/{w.school_a.code}",
                         data=form_data(client, w.school_a.code, equipment=str(other.id)))
    assert forged.status_code == 404
    assert count_tickets() == before


def test_schools_have_no_filing_for_others(client, w):
    login(client, w.user_a)
    assert client.get("/tickets/new/school").status_code == 403
    assert client.get("/tickets/new/school/lookup?q=γυμν").status_code == 403
    assert client.get(f"/tickets/new/school/{w.school_a.code}").status_code == 403


# --- the API ----------------------------------------------------------------------------------

def test_the_api_files_for_a_school_of_the_area_with_its_channel(client, w):
    from tests.test_api import bearer

    body = {"school_code": w.school_a.code, "category": "HW-PRN", "subject": "Ο εκτυπωτής",
            "description": "Τηλεφώνησε η διευθύντρια.", "channel": "phone"}
    created = client.post("/api/v1/tickets", headers=bearer(w.l1), json=body)
    assert created.status_code == 201, created.json
    assert created.json["channel"] == "phone" and created.json["school"]["code"] == w.school_a.code
    before = count_tickets()
    far = client.post("/api/v1/tickets", headers=bearer(w.l1),
                      json={**body, "school_code": w.school_far.code})
    assert far.status_code == 403
    as_school = client.post("/api/v1/tickets", headers=bearer(w.user_a), json=body)
    assert as_school.status_code == 422
    assert as_school.json["errors"][0]["field"] == "channel"
    assert count_tickets() == before
    events = client.get(f"/api/v1/tickets/{created.json['ref']}/events",
                        headers=bearer(w.user_a)).json["items"]
    assert events[0]["kind"] == "created" and ON_BEHALF_EL in events[0]["reason"]


# --- reports ------------------------------------------------------------------------------------

def test_reports_break_down_and_filter_by_channel(client, w):
    from datetime import date

    from helpdesk.reports import queries as reports
    from helpdesk.reports.filters import ReportFilters

    file_for(w.l1, w.school_a, channel="phone")
    file_for(w.l1, w.school_b, channel="phone")
    file_for(w.user_a, w.school_a, channel="web")
    f = ReportFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31), grouping="channel")
    table = reports.sla_compliance(w.admin, f)
    assert {r["key"]: (r["group"], r["tickets"]) for r in table.rows} == {
        "phone": ("Τηλέφωνο", 2), "web": ("Ιστοσελίδα", 1)}
    phoned = reports.sla_compliance(w.admin, f.with_(grouping="month", channel="phone"))
    assert [r["tickets"] for r in phoned.rows] == [2]
    _db.session.commit()
    login(client, w.manager)
    page = client.get("/reports/compliance", query_string={
        "from": "2026-03-01", "to": "2026-03-31", "group": "channel"}).get_data(as_text=True)
    assert "Τηλέφωνο" in page and 'name="channel"' in page
