"""Bulk actions on a queue (issue 15, "expected by technicians"): each ticket through the
service call of the ticket page, errors per ticket, large selections on the bulk queue."""
from __future__ import annotations

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from helpdesk.core.errors import ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.outbox.models import Notification
from helpdesk.tickets import bulk, services
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.states import Status
from tests.factories import World, at, category, make_ticket, resolution
from tests.web import csrf_token, login


@pytest.fixture
def w(db):
    return World()


def three(w):
    return [make_ticket(w.user_a, subject=f"Βλάβη {i}", minutes=i) for i in range(3)]


def run(actor, name, values, tickets, minutes=10):
    action, arguments = bulk.prepare(name, values)
    return bulk.apply(actor, action, arguments, [t.id for t in tickets], now=at(minutes))


def test_the_registry_holds_the_built_in_actions_and_takes_more():
    assert {"assign", "priority", "category", "resolve"} <= set(bulk.REGISTRY)
    extra = bulk.BulkAction("noop", "Τίποτα", bulk.Perm.VIEW, (), lambda values: {},
                            lambda actor, t, a, now: None)
    bulk.register(extra)
    try:
        assert bulk.REGISTRY["noop"] is extra
    finally:
        del bulk.REGISTRY["noop"]


def test_bulk_assign_is_one_by_one_with_its_events_and_notifications(w):
    tickets = three(w)
    _db.session.commit()
    outcome = run(w.l1, "assign", {"assignee": str(w.l1_peer.id)}, tickets)
    _db.session.commit()
    assert outcome.done == [t.ref for t in tickets] and outcome.failed == []
    for t in tickets:
        assert _db.session.get(Ticket, t.id).assignee_id == w.l1_peer.id
        assert _db.session.scalar(select(func.count(TicketEvent.id)).where(
            TicketEvent.ticket_id == t.id, TicketEvent.kind == "assign",
            TicketEvent.field == "assignee")) == 1
        # the assignee is told of each ticket, exactly once, as for a one-by-one assignment
        assert _db.session.scalar(select(func.count(Notification.id)).where(
            Notification.ticket_id == t.id, Notification.kind == "assigned",
            Notification.recipient_email == w.l1_peer.email)) == 1


def test_each_ticket_fails_alone_with_its_reason(w):
    ok, other_school = make_ticket(w.user_a), make_ticket(w.user_far)
    escalated = make_ticket(w.user_a, minutes=1)
    services.escalate(w.l1, escalated, "Θέλει το επίπεδο 2.", now=at(2))
    _db.session.commit()
    outcome = run(w.l1, "priority", {"priority": "4"}, [ok, other_school, escalated])
    _db.session.commit()
    assert outcome.done == [ok.ref]
    assert [ref for ref, _why in outcome.failed] == [f"#{other_school.id}", escalated.ref]
    assert "Δεν βρέθηκε" in outcome.failed[0][1]
    assert _db.session.get(Ticket, ok.id).priority == 4
    assert _db.session.get(Ticket, escalated.id).priority == 2  # its savepoint rolled back


def test_a_failing_ticket_leaves_no_half_change(w):
    """Resolving writes a message, events and the status: a refusal undoes all of it."""
    tickets = three(w)
    services.resolve(w.l1, tickets[1], resolution(), "Ήδη λυμένο.", now=at(5))
    _db.session.commit()
    before = _db.session.scalar(select(func.count(TicketEvent.id)).where(
        TicketEvent.ticket_id == tickets[1].id))
    outcome = run(w.l1, "resolve", {"resolution_type": str(resolution().id),
                                    "text": "Επανεκκίνηση του δρομολογητή."}, tickets)
    _db.session.commit()
    assert outcome.done == [tickets[0].ref, tickets[2].ref]
    assert outcome.failed[0][0] == tickets[1].ref
    assert _db.session.scalar(select(func.count(TicketEvent.id)).where(
        TicketEvent.ticket_id == tickets[1].id)) == before
    assert {_db.session.get(Ticket, t.id).status for t in tickets} == {Status.RESOLVED}


def test_bulk_category(w):
    tickets = three(w)
    outcome = run(w.l1, "category", {"category": str(category("HW-PC").id)}, tickets)
    assert len(outcome.done) == 3
    assert {t.category.code for t in tickets} == {"HW-PC"}


@pytest.mark.parametrize("name,values", [
    ("nothing", {}),
    ("assign", {"assignee": ""}),
    ("assign", {"assignee": "999999"}),
    ("priority", {"priority": "x"}),
    ("category", {"category": "999999"}),
    ("resolve", {"resolution_type": "1", "text": "ok"}),
])
def test_unusable_values_are_refused_before_any_ticket(w, name, values):
    with pytest.raises(ValidationFailed):
        bulk.prepare(name, values)


def test_one_text_cannot_resolve_many_by_a_guide(w):
    """Resolved "by a guide" names the guide of each request (helpdesk.kbuse): the bulk
    form does not offer it, and a forged choice is refused before any ticket."""
    with pytest.raises(ValidationFailed):
        bulk.prepare("resolve", {"resolution_type": str(resolution("GUIDE").id),
                                 "text": "Λύθηκε με τον οδηγό."})


def test_ticket_ids_are_checked():
    assert bulk.ticket_ids(["3", "1", "3", "x", "-2"]) == [3, 1]
    with pytest.raises(ValidationFailed):
        bulk.ticket_ids([])
    with pytest.raises(ValidationFailed):
        bulk.ticket_ids([str(i) for i in range(1, bulk.MAX_TICKETS + 2)])


# --- the web -------------------------------------------------------------------------------

def post_bulk(client, data, page="/tickets?queue=open"):
    token = csrf_token(client, page)
    return client.post("/tickets/bulk", data={"bulk-csrf_token": token, **data})


def test_the_queue_page_offers_checkboxes_and_the_actions_to_staff_only(client, w):
    three(w)
    _db.session.commit()
    login(client, w.l1)
    html = client.get("/tickets?queue=open").get_data(as_text=True)
    assert html.count('name="ticket_ids"') == 3 and 'id="bulk-form"' in html
    assert 'value="assign"' in html and w.l1_peer.name in html
    assert "Απομακρυσμένη υποστήριξη" in html  # the resolutions one text may name…
    assert "Με οδηγό της Βιβλιοθήκης" not in html  # …not "by a guide", named per request
    school = client.application.test_client()
    login(school, w.user_a)
    assert 'name="ticket_ids"' not in school.get("/tickets").get_data(as_text=True)


def test_the_web_reports_each_failure(client, w):
    tickets = three(w)
    other = make_ticket(w.user_far)
    _db.session.commit()
    login(client, w.l1)
    response = post_bulk(client, {
        "action": "assign", "assign-assignee": str(w.l1_peer.id),
        "ticket_ids": [str(t.id) for t in tickets] + [str(other.id)],
        "next": "/tickets?queue=open"})
    assert response.status_code == 302 and response.headers["Location"].endswith("queue=open")
    html = client.get("/tickets?queue=open").get_data(as_text=True)
    assert "3 αιτήματα άλλαξαν." in html and f"#{other.id}" in html
    assert _db.session.get(Ticket, other.id).assignee_id is None


def test_the_web_refuses_bad_input_and_changes_nothing(client, w):
    tickets = three(w)
    _db.session.commit()
    login(client, w.l1)
    post_bulk(client, {"action": "assign", "assign-assignee": "",
                       "ticket_ids": [str(t.id) for t in tickets]})
    post_bulk(client, {"action": "assign", "assign-assignee": str(w.l1_peer.id)})
    assert all(_db.session.get(Ticket, t.id).assignee_id is None for t in tickets)
    assert client.post("/tickets/bulk", data={"action": "assign"}).status_code == 400  # no CSRF


def test_a_large_selection_runs_on_the_bulk_queue(client, w, app, redis_server, monkeypatch):

    tickets = three(w)
    _db.session.commit()
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server)
    monkeypatch.setitem(app.config, "BULK_INLINE_MAX", 2)
    login(client, w.l1)
    response = post_bulk(client, {"action": "priority", "priority-priority": "3",
                                  "ticket_ids": [str(t.id) for t in tickets]})
    assert response.status_code == 302 and "/tickets/bulk/bulk-" in response.headers["Location"]
    assert {_db.session.get(Ticket, t.id).priority for t in tickets} == {2}  # not yet
    connection = redis.Redis.from_url(redis_server)
    # the job runs in the run's app (conftest's workers.set_app): not reset afterwards, or
    # every later job would build an app of its own on an empty database
    SimpleWorker([Queue("bulk", connection=connection)], connection=connection).work(burst=True)
    _db.session.expire_all()
    assert {_db.session.get(Ticket, t.id).priority for t in tickets} == {3}
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "3 αιτήματα άλλαξαν." in page.get_data(as_text=True)
    other = client.application.test_client()
    login(other, w.l1_peer)  # another person's job is not found
    assert other.get(response.headers["Location"]).status_code == 404
