"""Bounces of our notifications: the row is marked with the reported status, shown to
staff on the ticket; an address that hard-bounces MAIL_SUPPRESS_AFTER_HARD_BOUNCES
times is no longer mailed until an administrator clears it (command line or page)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import workers.outbox_jobs as jobs
from helpdesk.extensions import db as _db
from helpdesk.mail import process, store
from helpdesk.mail.models import InboundMessage
from helpdesk.outbox.models import Notification, Suppression
from helpdesk.tickets import services
from tests.factories import World, at, make_ticket
from tests.web import login, post

DSN = """From: MAILER-DAEMON@mx.school.example.gr
To: helpdesk@sch.gr
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{n}@mx.school.example.gr>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Delivery failed.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.school.example.gr

Final-Recipient: rfc822; {address}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {code} {status} {why}

--B
Content-Type: message/rfc822

From: helpdesk@sch.gr
To: {address}
Subject: test
Message-ID: {message_id}

Body.
--B--
"""


@pytest.fixture
def w(db, monkeypatch):
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    return World()


def bounce(note: Notification, n: int, status="5.2.2", action="failed", why="Mailbox full"):
    raw = DSN.format(n=n, address=note.recipient_email, action=action, status=status,
                     code=552 if status[0] == "5" else 451, why=why,
                     message_id=note.message_id).encode()
    inbound_id, _ = store.accept(raw, source="test", now=at(60 + n))
    assert process.run(inbound_id, now=at(61 + n)) == "ignored"
    _db.session.expire_all()
    return _db.session.get(InboundMessage, inbound_id)


def ack_of(ticket) -> Notification:
    """The acknowledgement to the school's official address (its filer gets one too)."""
    return _db.session.scalar(select(Notification).where(
        Notification.ticket_id == ticket.id, Notification.kind == "ack",
        Notification.recipient_email == ticket.school.email))


def test_a_bounce_marks_its_notification_failed_and_staff_see_it(w, client):
    t = make_ticket(w.user_a)
    _db.session.commit()
    note = ack_of(t)
    row = bounce(note, 1)
    assert f"notification {note.id}" in row.detail
    note = _db.session.get(Notification, note.id)
    assert (note.status, note.bounce_status) == ("failed", "5.2.2")
    assert "Mailbox full" in note.last_error
    login(client, w.l1)
    html = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert f"Η ειδοποίηση προς {note.recipient_email} δεν παραδόθηκε: 5.2.2" in html
    assert "Mailbox full" in html
    school = client.application.test_client()
    login(school, w.user_a)
    assert "5.2.2" not in school.get(f"/tickets/{t.ref}").get_data(as_text=True)


def test_two_hard_bounces_suppress_the_address_until_it_is_cleared(w, app):
    address = w.school_a.email
    first, second = make_ticket(w.user_a), make_ticket(w.user_a)
    _db.session.commit()
    bounce(ack_of(first), 1)
    assert _db.session.scalar(select(Suppression)).is_suppressed is False
    bounce(ack_of(second), 2, status="5.1.1", why="No such user")
    supp = _db.session.scalar(select(Suppression))
    assert (supp.address, supp.hard_count, supp.is_suppressed) == (address, 2, True)
    assert supp.last_status == "5.1.1"
    # the next notification to that address is not sent, and says why
    services.reply(w.l1, first, "Δοκιμάστε ξανά την εκτύπωση.", now=at(90))
    _db.session.commit()
    pending = _db.session.scalars(select(Notification).where(
        Notification.recipient_email == address, Notification.status == "pending")).all()
    assert pending
    assert {jobs.deliver_notification(n.id) for n in pending} == {"suppressed"}
    _db.session.expire_all()
    assert all(_db.session.get(Notification, n.id).status == "suppressed" for n in pending)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["mail", "suppressions"])
    assert address in listed.output and "hard=2" in listed.output
    cleared = runner.invoke(args=["mail", "unsuppress", address.upper(), "--by", w.admin.email])
    assert cleared.exit_code == 0, cleared.output
    _db.session.expire_all()
    supp = _db.session.scalar(select(Suppression))
    assert not supp.is_suppressed and supp.cleared_by_id == w.admin.id and supp.cleared_at
    assert address not in runner.invoke(args=["mail", "suppressions"]).output
    assert runner.invoke(args=["mail", "unsuppress", "nobody@x.gr"]).exit_code != 0


def test_soft_bounces_are_counted_but_never_suppress(w):
    t = make_ticket(w.user_a)
    _db.session.commit()
    for n in range(3):
        bounce(ack_of(t), n, status="4.2.2", action="delayed", why="over quota, retrying")
    supp = _db.session.scalar(select(Suppression))
    assert (supp.soft_count, supp.hard_count, supp.is_suppressed) == (3, 0, False)
    assert ack_of(t).status == "pending" and ack_of(t).bounce_status == "4.2.2"


def test_the_administrator_lists_and_clears_suppressions_on_a_page(w, app, client):
    t = make_ticket(w.user_a)
    _db.session.commit()
    app.config["MAIL_SUPPRESS_AFTER_HARD_BOUNCES"], before = 1, app.config[
        "MAIL_SUPPRESS_AFTER_HARD_BOUNCES"]
    try:
        bounce(ack_of(t), 1)
    finally:
        app.config["MAIL_SUPPRESS_AFTER_HARD_BOUNCES"] = before
    supp = _db.session.scalar(select(Suppression))
    login(client, w.admin)
    assert "/admin/mail/suppressions" in client.get("/admin/mail/").get_data(as_text=True)
    page = client.get("/admin/mail/suppressions").get_data(as_text=True)
    assert supp.address in page and "Mailbox full" in page
    url = f"/admin/mail/suppressions/{supp.id}/clear"
    assert client.post(url).status_code == 400  # no CSRF token
    assert post(client, url, page="/admin/mail/suppressions").status_code == 302
    _db.session.expire_all()
    supp = _db.session.get(Suppression, supp.id)
    assert not supp.is_suppressed and supp.cleared_by_id == w.admin.id
    for user in (w.l1, w.user_a):
        other = app.test_client()
        login(other, user)
        assert other.get("/admin/mail/suppressions").status_code == 404
        assert post(other, url).status_code == 404
