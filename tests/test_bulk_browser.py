"""A technician selects three requests of a queue and assigns them in one go, in
Debian's Chromium driven by Playwright (issue 15, bulk actions)."""
import pytest

from helpdesk.extensions import db as _db
from helpdesk.tickets.models import Ticket
from tests.factories import World, make_ticket
from tests.test_browser import log_in

pytestmark = pytest.mark.browser


def test_a_technician_assigns_three_requests_at_once(page, live_server):
    with live_server.app.app_context():
        w = World()
        tickets = [make_ticket(w.user_a, subject=f"Μαζική ανάθεση {i}", minutes=i)
                   for i in range(4)]
        _db.session.commit()
        ids = [t.id for t in tickets]
        refs = [t.ref for t in tickets]
        tech, peer_id = w.l1.email, w.l1_peer.id
        _db.session.remove()
    log_in(page, live_server, tech)
    page.goto(f"{live_server}/tickets?queue=unassigned&school={w_code(live_server, ids[0])}")
    for ref in refs[:3]:
        page.get_by_label(ref, exact=True).check()
    page.get_by_label("Ανάθεση σε").check()
    # by id: the live server keeps earlier tests' people, some with the same name
    page.select_option("select[name=assign-assignee]", value=str(peer_id))
    page.get_by_role("button", name="Εφαρμογή στα επιλεγμένα αιτήματα").click()
    page.wait_for_load_state()
    assert page.get_by_text("3 αιτήματα άλλαξαν.").is_visible()
    with live_server.app.app_context():
        assignees = [_db.session.get(Ticket, i).assignee_id for i in ids]
        _db.session.remove()
    assert assignees == [peer_id, peer_id, peer_id, None]


def w_code(live_server, ticket_id) -> str:
    with live_server.app.app_context():
        code = _db.session.get(Ticket, ticket_id).school.code
        _db.session.remove()
    return code
