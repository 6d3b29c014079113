"""A school's "thank you, it works" by e-mail closes its resolved request and does not
reopen it; the school and the technician see so in Debian's Chromium (issue 15 §3,
"done means": a thank-you does not reopen).

The mail goes through the real gateway (helpdesk.mail.store.accept, then
helpdesk.mail.process.run, what the IMAP/LMTP doors and the worker call), written as a
school's mail client writes a reply to our resolution mail: from the school's official
address, In-Reply-To our signed Message-ID, the quoted mail below the words.
"""
from datetime import timedelta

import pytest

from helpdesk.extensions import db as _db
from helpdesk.mail import process, store
from helpdesk.mail.ids import make_message_id
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket
from tests.factories import World, make_ticket, resolution
from tests.test_browser import log_in, log_out

pytestmark = pytest.mark.browser

OWN = "helpdesk@sch.gr"


def _reply(school_email: str, in_reply_to: str, ref: str) -> bytes:
    return (
        f"From: <{school_email}>\r\n"
        f"To: {OWN}\r\n"
        f"Subject: =?utf-8?b?zpHPgDo=?= {ref}\r\n"
        "Date: Thu, 03 Dec 2026 11:00:00 +0200\r\n"
        "Message-ID: <thanks.browser@client.example.gr>\r\n"
        f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "Ευχαριστούμε πολύ, λειτουργεί!\r\n\r\nΜε εκτίμηση,\r\nΟ Διευθυντής\r\n\r\n"
        f"Από: Αρωγή <{OWN}>\r\nΘέμα: Το αίτημα επιλύθηκε\r\n\r\n"
        "Το αίτημά σας επιλύθηκε. Αν το πρόβλημα παραμένει, πείτε μας: δεν λύθηκε.\r\n"
    ).encode()


@pytest.fixture
def thanked(live_server, monkeypatch):
    app = live_server.app
    monkeypatch.setitem(app.config, "MAIL_OWN_ADDRESSES", [OWN])
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)  # run below
    with app.app_context():
        w = World()
        ticket = make_ticket(w.user_a, subject="Ο διακόπτης του εργαστηρίου δεν ανάβει")
        resolved_at = ticket.created_at + timedelta(hours=2)
        services.resolve(w.l1, ticket, resolution(), "Αλλάξαμε το τροφοδοτικό του διακόπτη.",
                         now=resolved_at)
        _db.session.commit()
        raw = _reply(w.school_a.email,
                     make_message_id(app.config["SECRET_KEY"], ticket.id, 0, "arogi.test"),
                     ticket.ref)
        inbound_id, _new = store.accept(raw, source="test", now=resolved_at + timedelta(hours=1))
        outcome = process.run(inbound_id, now=resolved_at + timedelta(hours=1))
        facts = {"ref": ticket.ref, "id": ticket.id, "school": w.user_a.email,
                 "l1": w.l1.email, "outcome": outcome}
        _db.session.remove()
    return facts


def test_a_thank_you_by_mail_closes_and_does_not_reopen(page, live_server, thanked):
    with live_server.app.app_context():
        t = _db.session.get(Ticket, thanked["id"])
        assert (t.status, t.confirmed_via) == ("closed", "email"), thanked["outcome"]
        _db.session.remove()
    for who in ("school", "l1"):
        log_in(page, live_server, thanked[who])
        page.goto(f"{live_server}/tickets/{thanked['ref']}")
        timeline = page.locator("body")
        assert timeline.get_by_text("Ευχαριστούμε πολύ, λειτουργεί!").first.is_visible()
        badge = page.locator(".badge.st-closed").first
        assert badge.is_visible(), page.content()[:3000]
        assert page.locator(".badge.st-open, .badge.st-new").count() == 0
        log_out(page)
