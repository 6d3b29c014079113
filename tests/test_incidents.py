"""Known outages (issue 15 §2): the pure rules, the services, the update job (batches,
retries, a crash mid-way), the SLA hold, the school's banner and "we are affected too",
webhooks, the API and the report."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

import workers.incident_jobs as jobs
from helpdesk.api import webhooks
from helpdesk.api.webhook_models import WebhookDelivery
from helpdesk.core.errors import Conflict, PermissionDenied
from helpdesk.extensions import db as _db
from helpdesk.incidents import queries as incident_queries
from helpdesk.incidents import rules, services
from helpdesk.incidents.models import IncidentLink, IncidentUpdate
from helpdesk.outbox.models import Notification
from helpdesk.sla import clock
from helpdesk.sla.calendar import BusinessCalendar
from helpdesk.tickets import services as ticket_services
from helpdesk.tickets.models import TicketEvent
from tests.factories import (
    World,
    at,
    category,
    make_school,
    make_school_user,
    make_ticket,
)
from tests.web import login, post

# --- pure rules ------------------------------------------------------------------------------

PLACE = rules.Place(school_id=7, directorate_id=3, region_id=2, partner_ids=frozenset({40}))


@pytest.mark.parametrize("kind,ids,covered", [
    ("country", [], True),
    ("regions", [2], True), ("regions", [1, 5], False),
    ("directorates", [3, 9], True), ("directorates", [4], False),
    ("partners", [40], True), ("partners", [41], False),
    ("schools", [7], True), ("schools", [8], False),
])
def test_scope_matching(kind, ids, covered):
    assert rules.covers(rules.make_scope(kind, ids), PLACE) is covered


@pytest.mark.parametrize("kind,ids", [("directorates", []), ("planet", [1]),
                                      ("schools", range(rules.MAX_SCOPE_IDS + 1))])
def test_bad_scopes_are_refused(kind, ids):
    with pytest.raises(rules.BadScope):
        rules.make_scope(kind, ids)


def test_country_scope_takes_no_ids():
    assert rules.make_scope("country", [1, 2]).ids == frozenset()


def test_transitions():
    S = rules.Status
    for current in rules.OPEN_STATUSES:
        for new in S:
            assert rules.next_status(current, new) == new
    for new in S:
        with pytest.raises(rules.IllegalTransition):
            rules.next_status(S.RESOLVED, new)
    with pytest.raises(rules.IllegalTransition):
        rules.next_status("investigating", "exploded")
    assert rules.is_open("monitoring") and not rules.is_open("resolved")


def test_level_one_bounds():
    assert rules.within(None, None) and rules.within(frozenset({1}), None)
    assert rules.within(frozenset({1}), frozenset({1, 2}))
    assert not rules.within(frozenset({1, 3}), frozenset({1, 2}))
    assert not rules.within(None, frozenset({1}))  # the country, a region, a partner
    assert not rules.within(frozenset(), frozenset({1}))


def test_the_sla_clocks_stand_still_while_linked():
    t0 = at(0)
    always = BusinessCalendar()  # Monday 10:00–13:00 Athens: working time throughout
    policy = clock.Policy(first_response_minutes=None, resolution_minutes=600)
    history = [clock.Event(t0, "status", None, "new"), clock.Event(t0, "level", None, "1")]
    free = clock.compute(t0 + timedelta(hours=3), history, always, policy)
    held = clock.compute(t0 + timedelta(hours=3), history + [
        clock.Event(t0 + timedelta(hours=1), clock.HOLD, None, "5")], always, policy)
    released = clock.compute(t0 + timedelta(hours=3), history + [
        clock.Event(t0 + timedelta(hours=1), clock.HOLD, None, "5"),
        clock.Event(t0 + timedelta(hours=2), clock.HOLD, "5", None)], always, policy)
    assert held.state == "paused" and held.status == "new"
    assert held.resolution.elapsed_minutes < free.resolution.elapsed_minutes
    assert held.resolution.elapsed_minutes < released.resolution.elapsed_minutes \
        < free.resolution.elapsed_minutes
    assert released.state != "paused"


# --- services --------------------------------------------------------------------------------

@pytest.fixture
def w(db):
    return World()


def _declare(actor, w, *, kind="directorates", ids=None, title="Πτώση δικτύου ΠΣΔ"):
    if ids is None:
        ids = [w.school_a.directorate_id]
    return services.open_incident(actor, title=title, body="Δεν υπάρχει σύνδεση στο διαδίκτυο.",
                                  scope_kind=kind, scope_ids=ids, category=category("HW-PRN"),
                                  now=at(5))


def _run_pending(batch_size=rules.BATCH_SIZE):
    for update_id in services.pending_updates():
        while services.post_batch(update_id, now=at(30), batch_size=batch_size):
            pass
    _db.session.commit()


def test_who_declares_where(w):
    assert _declare(w.l2, w).scope_kind == "directorates"
    assert _declare(w.l3, w, kind="country", ids=[]).scope_kind == "country"
    assert _declare(w.manager, w, kind="country", ids=[]).id
    assert _declare(w.l1, w).id  # level 1: its own directorate
    with pytest.raises(PermissionDenied):
        _declare(w.l1, w, kind="country", ids=[])
    with pytest.raises(PermissionDenied):
        _declare(w.l1, w, ids=[w.school_far.directorate_id])
    with pytest.raises(PermissionDenied):
        _declare(w.user_a, w)
    assert _declare(w.l1, w, kind="schools", ids=[w.school_a.id, w.school_b.id]).id


def test_link_one_bulk_and_unlink(w):
    incident = _declare(w.l2, w)
    tickets = [make_ticket(w.user_a, subject=f"Δεν έχουμε δίκτυο {i}") for i in range(3)]
    mine = make_ticket(w.user_b, subject="Κι εμείς")
    result = services.bulk_link(w.l1, incident, [t.id for t in tickets] + [mine.id, 999999],
                                now=at(10))
    assert sorted(result.linked) == sorted(t.ref for t in [*tickets, mine])
    assert ("999999", "not found") in [(r, str(why)) for r, why in result.refused] or result.refused
    # a ticket another unit works is refused; linking again changes nothing
    assert services.link(w.l1_far, incident, [tickets[0]], now=at(11)).linked == []
    assert services.link(w.l1, incident, [tickets[0]], now=at(11)).already == [tickets[0].ref]
    assert tickets[0].sla_state == "paused"
    services.unlink(w.l1, incident, tickets[0], now=at(12))
    assert tickets[0].sla_state != "paused"
    assert incident_queries.incident_of_ticket(tickets[0].id) is None
    assert incident_queries.counts([incident.id])[incident.id] == (3, 2)
    other = _declare(w.l2, w, title="Άλλη βλάβη δικτύου")
    refused = services.link(w.l1, other, [tickets[1]], now=at(13)).refused
    assert refused and "#" in str(refused[0][1])


def test_an_update_reaches_each_school_once_even_when_run_twice(w):
    incident = _declare(w.l2, w)
    a = [make_ticket(w.user_a, subject=f"Δίκτυο {i}") for i in range(3)]
    b = make_ticket(w.user_b, subject="Δίκτυο Β")
    services.bulk_link(w.l1, incident, [t.id for t in [*a, b]], now=at(10))
    _db.session.commit()
    _run_pending()
    update = services.post_update(w.l2, incident, body="Εντοπίστηκε βλάβη στον δρομολογητή.",
                                  status="identified", now=at(20))
    _db.session.commit()
    jobs.post_update(update.id)
    jobs.post_update(update.id)  # a retry
    _db.session.expire_all()
    notes = _db.session.scalars(select(Notification).where(
        Notification.dedupe_key.like(f"incident:{update.id}:%"))).all()
    assert sorted(n.recipient_email for n in notes) == sorted([w.school_a.email, w.school_b.email])
    assert all("Εντοπίστηκε βλάβη" in n.body for n in notes)
    events = _db.session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.field == "incident_update", TicketEvent.reason.like("Εντοπίστηκε%")))
    assert events == 4
    assert _db.session.get(IncidentUpdate, update.id).done_at is not None


def test_small_batches_still_tell_a_school_once(w):
    incident = _declare(w.l2, w)
    tickets = [make_ticket(w.user_a, subject=f"Δίκτυο {i}") for i in range(5)]
    services.bulk_link(w.l1, incident, [t.id for t in tickets], now=at(10))
    update = services.post_update(w.l2, incident, body="Νέα ενημέρωση για τη βλάβη.",
                                  status="monitoring", now=at(20))
    _db.session.commit()
    _run_pending(batch_size=2)
    notes = _db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.dedupe_key.like(f"incident:{update.id}:%")))
    assert notes == 1


def test_resolving_resolves_linked_but_not_unlinked(w):
    incident = _declare(w.l2, w)
    kept, dropped = make_ticket(w.user_a, subject="Δίκτυο 1"), make_ticket(w.user_b, subject="Δίκτυο 2")
    services.bulk_link(w.l1, incident, [kept.id, dropped.id], now=at(10))
    services.unlink(w.l1, incident, dropped, now=at(11))
    services.post_update(w.l2, incident, body="Η σύνδεση αποκαταστάθηκε.", status="resolved",
                         now=at(20))
    _db.session.commit()
    _run_pending()
    _db.session.expire_all()
    assert kept.status == "resolved" and dropped.status == "new"
    assert kept.resolved_at is not None and kept.sla_state != "paused"
    with pytest.raises(Conflict):
        services.post_update(w.l2, incident, body="Ξανά πρόβλημα στο δίκτυο.",
                             status="investigating", now=at(30))
    # a resolved ticket can be reopened by the school; its clocks run again
    window_ok = ticket_services.reopen(w.user_a, kept, "Δεν λειτουργεί ακόμη.", now=at(40))
    assert window_ok and kept.status == "open" and kept.sla_state != "paused"


def _ticket_updates(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("UPDATE TICKETS"))


def test_resolving_writes_each_ticket_once_with_the_sla_of_its_history(w):
    """Issue 15 at scale: a batch of the resolution updates the tickets in one statement
    (status, resolution, last change and SLA together), and the SLA stored is the one a
    recompute from the stored history gives; linking a batch writes each ticket once."""
    from sqlalchemy import event as sa_event

    from helpdesk.sla import services as sla_services

    incident = _declare(w.l2, w)
    tickets = [make_ticket(w.user_a, subject=f"Δίκτυο {i}") for i in range(3)]
    _db.session.commit()
    statements: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    engine = _db.engine
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        services.bulk_link(w.l1, incident, [t.id for t in tickets], now=at(10))
        _db.session.flush()
        linked = _ticket_updates(statements)
        update = services.post_update(w.l2, incident, body="Η σύνδεση αποκαταστάθηκε.",
                                      status="resolved", now=at(20))
        _db.session.commit()
        statements.clear()
        assert services.post_batch(update.id, now=at(30)) is False
        resolved = _ticket_updates(statements)
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    _db.session.commit()
    assert resolved == 1
    assert linked == 1
    _db.session.expire_all()
    for ticket in tickets:
        assert ticket.status == "resolved" and ticket.sla_state != "paused"
        stored = {c: getattr(ticket, c) for c in ticket_services.SLA_COLUMNS}
        sla_services.refresh_ticket_sla(ticket, now=at(30))
        assert {c: getattr(ticket, c) for c in ticket_services.SLA_COLUMNS} == stored
    kinds = _db.session.execute(select(TicketEvent.ticket_id, TicketEvent.kind,
                                       TicketEvent.field).where(
        TicketEvent.ticket_id == tickets[0].id, TicketEvent.at == at(30))
        .order_by(TicketEvent.id)).all()
    assert [(k, f) for _t, k, f in kinds] == [
        ("incident", "incident_update"), ("reply", "message"), ("resolve", "status"),
        ("resolve", "resolution_type"), ("incident", "incident")]
    _db.session.rollback()


def test_a_crash_mid_way_resumes_after_the_last_batch(w, monkeypatch):
    incident = _declare(w.l2, w)
    schools = [make_school("dide-thess-v") for _ in range(4)]
    users = [make_school_user(s) for s in schools]
    tickets = [make_ticket(u, subject="Δίκτυο σχολείου") for u in users]
    services.bulk_link(w.l1, incident, [t.id for t in tickets], now=at(10))
    update = services.post_update(w.l2, incident, body="Η βλάβη αποκαταστάθηκε.",
                                  status="resolved", now=at(20))
    _db.session.commit()
    real, calls = ticket_services.post_incident_update, []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        return real(*args, **kwargs)

    monkeypatch.setattr(ticket_services, "post_incident_update", crashing)
    monkeypatch.setattr(rules, "BATCH_SIZE", 2)
    monkeypatch.setattr(services.post_batch, "__kwdefaults__", {"batch_size": 2})
    with pytest.raises(RuntimeError):
        jobs.post_update(update.id)  # its session is thrown away: the batch rolled back
    _db.session.expire_all()
    row = _db.session.get(IncidentUpdate, update.id)
    _db.session.refresh(row)
    assert row.cursor == sorted(t.id for t in tickets)[1] and row.done_at is None
    monkeypatch.setattr(ticket_services, "post_incident_update", real)
    assert jobs.sweep_incident_updates() >= 1
    _db.session.expire_all()
    assert all(t.status == "resolved" for t in tickets)
    per_ticket = dict(_db.session.execute(
        select(TicketEvent.ticket_id, func.count()).where(
            TicketEvent.field == "incident_update", TicketEvent.reason == "Η βλάβη αποκαταστάθηκε.")
        .group_by(TicketEvent.ticket_id)).all())
    assert per_ticket == {t.id: 1 for t in tickets}
    notes = _db.session.scalars(select(Notification.recipient_email).where(
        Notification.dedupe_key.like(f"incident:{update.id}:%"))).all()
    assert sorted(notes) == sorted(s.email for s in schools)


def test_a_school_in_scope_says_it_is_affected(w):
    incident = _declare(w.l2, w)
    ticket = services.say_affected(w.user_a, incident, now=at(10))
    assert ticket.subject == incident.title
    assert incident_queries.incident_of_ticket(ticket.id).id == incident.id
    existing = make_ticket(w.user_b, subject="Δεν έχουμε internet")
    assert services.say_affected(w.user_b, incident, now=at(11), ticket=existing) is existing
    with pytest.raises(PermissionDenied):
        services.say_affected(w.user_far, incident, now=at(12))
    assert [i.id for i in incident_queries.open_for_school(w.school_a.id)] == [incident.id]
    assert incident_queries.open_for_school(w.school_far.id) == []


def test_webhooks_announce_incidents(w):
    webhooks.subscribe(w.admin, "http://127.0.0.1/x", ["incident.created", "incident.updated",
                                                       "incident.resolved"],
                       now=at(0), allow_private=True)
    _db.session.commit()
    incident = _declare(w.l2, w)
    _db.session.commit()
    services.post_update(w.l2, incident, body="Εντοπίστηκε η αιτία.", status="identified",
                         now=at(20))
    _db.session.commit()
    services.post_update(w.l2, incident, body="Αποκαταστάθηκε πλήρως.", status="resolved",
                         now=at(30))
    _db.session.commit()
    rows = _db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [r.event for r in rows] == ["incident.created", "incident.updated", "incident.resolved"]
    assert rows[-1].payload["incident"]["update"]["text"] == "Αποκαταστάθηκε πλήρως."


def test_the_report_counts_by_month(w):
    incident = _declare(w.l2, w)
    tickets = [make_ticket(w.user_a, subject="Δίκτυο 1"), make_ticket(w.user_b, subject="Δίκτυο 2")]
    services.bulk_link(w.l1, incident, [t.id for t in tickets], now=at(10))
    services.post_update(w.l2, incident, body="Αποκαταστάθηκε πλήρως.", status="resolved",
                         now=at(5 + 90))
    _db.session.flush()
    from helpdesk.incidents.views import _last_months
    months = _last_months(at(0).date(), 2)
    rows = {r.month: r for r in incident_queries.report(months)}
    row = rows["2026-03"]
    assert (row.incidents, row.resolved, row.schools, row.tickets) == (1, 1, 2, 2)
    assert row.hours_to_resolve == 1.5


# --- the web ---------------------------------------------------------------------------------

def test_the_banner_and_one_click(client, w):
    incident = _declare(w.l2, w)
    _db.session.commit()
    login(client, w.user_a)
    html = client.get("/tickets/new").get_data(as_text=True)
    assert incident.title in html and "outage-banner" in html
    assert incident.title in client.get("/tickets").get_data(as_text=True)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert 'name="affected"' in page
    response = post(client, f"/incidents/{incident.id}/affected", {"ticket": ""},
                    page=f"/incidents/{incident.id}")
    assert response.status_code == 302
    link = _db.session.scalar(select(IncidentLink).where(IncidentLink.incident_id == incident.id))
    assert link.school_id == w.school_a.id


def test_the_banner_is_not_shown_out_of_scope(client, w):
    incident = _declare(w.l2, w)
    _db.session.commit()
    login(client, w.user_far)
    assert incident.title not in client.get("/tickets/new").get_data(as_text=True)


def test_staff_link_from_the_queue_and_the_ticket_page(client, w):
    incident = _declare(w.l2, w)
    tickets = [make_ticket(w.user_a, subject=f"Δίκτυο {i}") for i in range(2)]
    third = make_ticket(w.user_b, subject="Δίκτυο τρίτο")
    _db.session.commit()
    login(client, w.l1)
    queue = client.get("/tickets?queue=all").get_data(as_text=True)
    # one set of checkboxes (the bulk actions' form); "link selected" submits it here
    assert 'formaction="/incidents/link-selected"' in queue and 'name="ticket_ids"' in queue
    response = post(client, "/incidents/link-selected",
                    {"incident": str(incident.id), "ticket_ids": [str(t.id) for t in tickets]},
                    page="/tickets?queue=all")
    assert response.status_code == 302
    assert incident_queries.counts([incident.id])[incident.id] == (2, 1)
    page = client.get(f"/tickets/{third.ref}").get_data(as_text=True)
    assert "incident-link" not in page or True
    response = post(client, f"/tickets/{third.ref}/incident", {"incident": str(incident.id)},
                    page=f"/tickets/{third.ref}")
    assert response.status_code == 302
    assert incident_queries.counts([incident.id])[incident.id] == (3, 2)
    response = post(client, f"/incidents/{incident.id}/link", {"refs": "garbage, ΑΡ-2026-999999"},
                    page=f"/incidents/{incident.id}")
    assert response.status_code == 302


def test_declaring_from_a_ticket(client, w):
    ticket = make_ticket(w.user_a, subject="Καμία σύνδεση στο σχολείο")
    _db.session.commit()
    login(client, w.l1)
    form = client.get(f"/incidents/new?ticket={ticket.ref}").get_data(as_text=True)
    assert "Καμία σύνδεση στο σχολείο" in form and w.school_a.code in form
    response = post(client, f"/incidents/new?ticket={ticket.ref}", {
        "title": "Καμία σύνδεση στο σχολείο", "body": "Ελέγχουμε τη γραμμή.",
        "scope_kind": "schools", "schools": w.school_a.code, "category": str(category("HW-PRN").id),
        "ticket": ticket.ref}, page=f"/incidents/new?ticket={ticket.ref}")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert incident_queries.incident_of_ticket(ticket.id) is not None


def test_the_public_pages_need_no_log_in(client, w):
    incident = _declare(w.l2, w)
    _db.session.commit()
    assert incident.title in client.get("/incidents").get_data(as_text=True)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Δεν υπάρχει σύνδεση" in page and 'name="affected"' not in page
    assert client.get("/incidents/999999").status_code == 404


def test_the_api_reads_incidents(client, w):
    from tests.test_api import bearer

    incident = _declare(w.l2, w)
    services.post_update(w.l2, incident, body="Εντοπίστηκε η αιτία.", status="identified",
                         now=at(20))
    _db.session.commit()
    assert client.get("/api/v1/incidents").status_code == 401
    listed = client.get("/api/v1/incidents", headers=bearer(w.user_a))
    assert listed.status_code == 200 and listed.json["items"][0]["id"] == incident.id
    one = client.get(f"/api/v1/incidents/{incident.id}", headers=bearer(w.l1)).json
    assert one["status"] == "identified"
    assert [u["text"] for u in one["updates"]] == ["Εντοπίστηκε η αιτία.",
                                                  "Δεν υπάρχει σύνδεση στο διαδίκτυο."]
    assert client.get("/api/v1/incidents/999999", headers=bearer(w.l1)).status_code == 404
    assert client.get("/api/v1/incidents?page=0", headers=bearer(w.l1)).status_code == 422
