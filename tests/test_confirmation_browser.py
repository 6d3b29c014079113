"""A school confirms and rates its resolved request from the resolution mail's link, in
Debian's Chromium driven by Playwright (issue 15 §3, "done means")."""
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from helpdesk.core.types import utcnow
from helpdesk.extensions import db as _db
from helpdesk.outbox.models import Notification
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket
from tests.factories import World, make_ticket, resolution

pytestmark = pytest.mark.browser


def _resolved_with_mail(app) -> tuple[int, str]:
    """A resolved request of a new school, and the "yes" link of the mail it was sent."""
    with app.app_context():
        w = World()
        ticket = make_ticket(w.user_a, subject="Ο προβολέας της αίθουσας 2 δεν ανάβει")
        services.resolve(w.l1, ticket, resolution(), "Αλλάξαμε τη λάμπα του προβολέα.",
                         now=ticket.created_at + timedelta(hours=1))
        _db.session.commit()
        note = _db.session.scalar(select(Notification).where(
            Notification.ticket_id == ticket.id, Notification.kind == "resolved",
            Notification.recipient_email == w.school_a.email))
        link = re.search(r"/confirm/(\S+)\?answer=yes", note.body).group(0)
        ticket_id = ticket.id
        _db.session.remove()
    return ticket_id, link


def test_a_school_confirms_and_rates_from_the_mail_link(page, live_server):
    ticket_id, link = _resolved_with_mail(live_server.app)
    assert unquote(link).startswith("/confirm/")
    page.goto(live_server + link)  # nobody is logged in: the link is enough
    assert page.get_by_role("heading", name="Λύθηκε το πρόβλημα;").is_visible()
    page.select_option("select[name=confirm-rating]", "4")
    page.fill("textarea[name=confirm-comment]", "Πολύ γρήγορη εξυπηρέτηση, ευχαριστούμε!")
    page.get_by_role("button", name="Ναι, λύθηκε").click()
    page.wait_for_load_state()
    assert page.get_by_text("Ευχαριστούμε για την επιβεβαίωση").is_visible()
    assert page.locator("#answered").is_visible()
    assert page.locator("form.confirm-resolution").count() == 0  # answered once only
    with live_server.app.app_context():
        t = _db.session.get(Ticket, ticket_id)
        assert (t.status, t.rating, t.confirmed_via) == ("closed", 4, "link")
        assert t.rating_comment == "Πολύ γρήγορη εξυπηρέτηση, ευχαριστούμε!"
        assert t.confirmed_at <= utcnow()
        _db.session.remove()


def test_a_tampered_link_shows_a_greek_error_and_changes_nothing(page, live_server):
    ticket_id, link = _resolved_with_mail(live_server.app)
    page.goto(live_server + link.replace("/confirm/", "/confirm/x"))
    assert page.get_by_role("heading", name="Ο σύνδεσμος δεν είναι έγκυρος").is_visible()
    with live_server.app.app_context():
        assert _db.session.get(Ticket, ticket_id).status == "resolved"
        _db.session.remove()
