"""The quarantine pages: administrators only; list, inspect, download, assign, discard."""
from __future__ import annotations

import pytest

from helpdesk.mail import process, store
from helpdesk.mail.models import InboundMessage
from helpdesk.tickets.models import Ticket
from tests import factories as f
from tests.web import login, post

RAW = ("From: <parent@gmail.example.com>\r\nTo: helpdesk@sch.gr\r\nSubject: Βοήθεια\r\n"
       "Message-ID: <view-1@gmail.example.com>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
       "<p>Ο εκτυπωτής <script>alert(1)</script>χάλασε</p>").encode()


@pytest.fixture
def quarantined(db, monkeypatch):
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    inbound_id, _ = store.accept(RAW, source="test", now=f.at(0))
    assert process.run(inbound_id, now=f.at(1)) == "quarantined"
    return db.session.get(InboundMessage, inbound_id)


def test_admin_lists_and_inspects_sanitised(client, quarantined):
    login(client, f.make_admin())
    listing = client.get("/admin/mail/").get_data(as_text=True)
    assert "parent@gmail.example.com" in listing and "άγνωστος αποστολέας" in listing
    page = client.get(f"/admin/mail/{quarantined.id}").get_data(as_text=True)
    assert "χάλασε" in page and "<script>alert" not in page
    raw = client.get(f"/admin/mail/{quarantined.id}/raw")
    assert raw.status_code == 200 and raw.data == RAW
    assert "attachment" in raw.headers["Content-Disposition"]


def test_admin_assigns_to_a_school_and_it_becomes_a_ticket(client, db, quarantined):
    school = f.make_school()
    login(client, f.make_admin())
    response = post(client, f"/admin/mail/{quarantined.id}/assign", {"school_code": school.code},
                    page=f"/admin/mail/{quarantined.id}")
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(InboundMessage, quarantined.id)
    assert row.status == "processed"
    ticket = db.session.get(Ticket, row.ticket_id)
    assert ticket.school_id == school.id and "alert" not in ticket.description


def test_admin_discards(client, db, quarantined):
    login(client, f.make_admin())
    post(client, f"/admin/mail/{quarantined.id}/discard", page=f"/admin/mail/{quarantined.id}")
    db.session.expire_all()
    row = db.session.get(InboundMessage, quarantined.id)
    assert (row.status, row.reason) == ("ignored", "discarded")


def test_others_may_not_see_the_quarantine(app, client, quarantined):
    assert client.get("/admin/mail/").status_code in (302, 401)
    school = f.make_school()
    for user in (f.make_school_user(school), f.make_staff(f.unit_at(school, 1))):
        other = app.test_client()
        login(other, user)
        for url in ("/admin/mail/", f"/admin/mail/{quarantined.id}",
                    f"/admin/mail/{quarantined.id}/raw"):
            assert other.get(url).status_code == 404
        assert post(other, f"/admin/mail/{quarantined.id}/discard").status_code == 404


def test_the_timeline_names_a_school_that_acted_by_its_address(client, db, monkeypatch):
    """A school with no account of its own reopens by e-mail: staff see its address and
    name on the event and the message, not "System"."""
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    school = f.make_school(name="Γυμνάσιο Δέλτα")
    school.email = "mail@gym-delta.thess.sch.gr"
    staff = f.make_staff(f.unit_at(school, 1))
    ticket = f.make_ticket(f.make_school_user(school))
    from helpdesk.tickets import services

    services.resolve(staff, ticket, f.resolution(), "Επιλύθηκε εξ αποστάσεως.", now=f.at(5))
    raw = ("From: <mail@gym-delta.thess.sch.gr>\r\nTo: helpdesk@sch.gr\r\n"
           f"Subject: Re: {ticket.ref}\r\nMessage-ID: <reopen-delta@x.example>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nΤο πρόβλημα εμφανίστηκε ξανά.").encode()
    inbound_id, _ = store.accept(raw, source="test", now=f.at(10))
    assert process.run(inbound_id, now=f.at(11)) == "processed"
    login(client, staff)
    page = client.get(f"/tickets/{ticket.ref}").get_data(as_text=True)
    assert page.count("mail@gym-delta.thess.sch.gr (Γυμνάσιο Δέλτα)") >= 2


def test_the_message_view_shows_the_authentication_results(client, db, monkeypatch):
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    raw = ("Authentication-Results: mx.sch.gr; spf=fail smtp.mailfrom=x@gmail.example.com;"
           " dkim=pass header.d=gmail.example.com; dmarc=fail header.from=gmail.example.com\r\n"
           + RAW.decode().replace("view-1@", "view-auth@")).encode()
    inbound_id, _ = store.accept(raw, source="test", now=f.at(0))
    process.run(inbound_id, now=f.at(1))
    login(client, f.make_admin())
    page = client.get(f"/admin/mail/{inbound_id}").get_data(as_text=True)
    assert "SPF: fail (gmail.example.com)" in page and "DMARC: fail" in page
    assert "DKIM: pass (gmail.example.com)" in page and "mx.sch.gr" in page
