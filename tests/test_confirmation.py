"""Closing the loop with the school: confirm or deny a resolution, rate it (issue 15 §3).

Services on the database, the signed links of the resolution mail, the ticket page, the
auto-close job and the notifications (the mail the school gets carries the links).
"""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.mail.queries import SchoolAddress
from helpdesk.outbox.models import Notification
from helpdesk.tickets import confirm_links, services
from helpdesk.tickets.models import Message, Ticket, TicketEvent
from helpdesk.tickets.states import Status
from tests.factories import World, at, make_ticket, resolution
from tests.web import act, csrf_token, login


@pytest.fixture
def w(db):
    return World()


def resolved(w, minutes=0):
    t = make_ticket(w.user_a, minutes=minutes)
    services.resolve(w.l1, t, resolution(), "Αλλάξαμε το τροφοδοτικό.", now=at(minutes + 1))
    _db.session.flush()
    return t


def kinds(ticket):
    return [(e.kind, e.field, e.new_value) for e in _db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))]


# --- services ------------------------------------------------------------------------------

def test_confirming_closes_with_rating_and_comment(w):
    t = resolved(w)
    services.confirm(w.user_a, t, now=at(10), rating="4", comment=" Γρήγορα και σωστά. ")
    assert t.status == Status.CLOSED and t.closed_at == at(10) == t.confirmed_at
    assert (t.rating, t.rating_comment, t.confirmed_via) == (4, "Γρήγορα και σωστά.", "web")
    assert kinds(t)[-2:] == [("confirm", "status", "closed"), ("rating", "rating", "4")]


def test_confirming_without_rating_records_no_rating_event(w):
    t = resolved(w)
    services.confirm(w.user_a, t, now=at(10))
    assert t.status == Status.CLOSED and t.rating is None
    assert kinds(t)[-1] == ("confirm", "status", "closed")


@pytest.mark.parametrize("bad", ["0.5", "6", "-1", "πέντε", 9])
def test_a_bad_rating_changes_nothing(w, bad):
    t = resolved(w)
    with pytest.raises(ValidationFailed):
        services.confirm(w.user_a, t, now=at(10), rating=bad)
    assert t.status == Status.RESOLVED and t.confirmed_at is None


def test_only_the_school_confirms_and_only_a_resolved_request(w):
    t = resolved(w)
    for who in (w.l1, w.manager, w.admin):
        with pytest.raises(PermissionDenied):
            services.confirm(who, t, now=at(10))
    for who in (w.user_b, w.l2):
        with pytest.raises(NotFound):
            services.confirm(who, t, now=at(10))
    open_ = make_ticket(w.user_a)
    with pytest.raises(PermissionDenied):
        services.confirm(w.user_a, open_, now=at(10))
    services.confirm(w.user_a, t, now=at(10))
    with pytest.raises(PermissionDenied):  # closed now: once only
        services.confirm(w.user_a, t, now=at(11), rating=5)


def test_not_solved_reopens_even_after_the_reopen_window(w, app):
    t = resolved(w)
    late = at(1) + timedelta(days=app.config["REOPEN_WINDOW_DAYS"], hours=1)
    with pytest.raises(PermissionDenied):
        services.reopen(w.user_a, t, "Πάλι χάλασε.", now=late)
    message = services.not_solved(w.user_a, t, now=late)
    assert t.status == Status.OPEN and t.resolved_at is None
    assert message.body == "Το σχολείο δηλώνει ότι το πρόβλημα δεν λύθηκε."
    services.resolve(w.l1, t, resolution(), "Τώρα λειτουργεί.", now=late + timedelta(hours=1))
    message = services.not_solved(w.user_a, t, now=late + timedelta(hours=2),
                                  comment="Ο εκτυπωτής πάλι μπλοκάρει.")
    assert message.body == "Ο εκτυπωτής πάλι μπλοκάρει."


def test_the_school_by_its_address_confirms_like_its_account(w):
    t = resolved(w)
    address = SchoolAddress(w.school_a.id, w.school_a.email)
    services.confirm(address, t, now=at(10), rating=5, via="link")
    event = _db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                         TicketEvent.kind == "confirm"))
    assert event.actor_id is None and event.actor_email == w.school_a.email
    assert t.confirmed_via == "link"


def test_auto_close_leaves_confirmed_tickets_alone_and_closes_the_rest(w):
    confirmed, silent = resolved(w), resolved(w, minutes=2)
    services.confirm(w.user_a, confirmed, now=at(10), rating=3)
    now = at(0) + timedelta(days=11)
    assert services.close_resolved(now=now, older_than=timedelta(days=10)) == 1
    assert silent.status == Status.CLOSED and silent.confirmed_at is None
    assert confirmed.closed_at == at(10) and kinds(silent)[-1] == ("close", "status", "closed")


def test_the_close_job_closes_in_batches_with_closed_events(app, db, monkeypatch):
    from helpdesk import bus
    from helpdesk.events import TicketClosed
    from workers import jobs

    w = World()
    tickets = [resolved(w, minutes=i) for i in range(5)]
    _db.session.commit()
    seen = []
    monkeypatch.setattr(jobs, "utcnow", lambda: at(0) + timedelta(days=30))
    monkeypatch.setattr(jobs, "close_resolved",
                        lambda **kw: services.close_resolved(**{**kw, "limit": 2}))
    original = bus.record

    def record(event, session=None):
        if isinstance(event, TicketClosed):
            seen.append(event.ticket_id)
        return original(event, session)

    monkeypatch.setattr(bus, "record", record)
    assert jobs.close_resolved_tickets() == 5
    assert sorted(seen) == sorted(t.id for t in tickets)
    assert {_db.session.get(Ticket, t.id).status for t in tickets} == {"closed"}


# --- the resolution mail and its links -------------------------------------------------------

def school_mail(ticket, school):
    _db.session.commit()  # the notifications are written at the commit
    return _db.session.scalar(select(Notification).where(
        Notification.ticket_id == ticket.id, Notification.kind == "resolved",
        Notification.recipient_email == school.email))


def links_of(note) -> dict[str, str]:
    found = dict(re.findall(r"(https?://\S+/confirm/\S+\?answer=(yes|no))", note.body))
    return {answer: urlsplit(url).path + "?" + urlsplit(url).query for url, answer in found.items()}


def test_the_resolution_mail_carries_both_links_to_the_school_only(w):
    t = resolved(w)
    note = school_mail(t, w.school_a)
    links = links_of(note)
    assert set(links) == {"yes", "no"}
    assert links["yes"] in note.body_html.replace("&amp;", "&")
    token = unquote(links["yes"].split("/confirm/")[1].split("?")[0])
    target = confirm_links.read_token(token)
    assert (target.ticket_id, target.school_id) == (t.id, w.school_a.id)
    others = _db.session.scalars(select(Notification).where(
        Notification.ticket_id == t.id, Notification.kind != "resolved")).all()
    assert others and all("/confirm/" not in n.body for n in others)


def test_a_link_page_changes_nothing_on_get_and_confirms_on_post(client, w):
    t = resolved(w)
    link = links_of(school_mail(t, w.school_a))["yes"]
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Λύθηκε το πρόβλημα;" in html and t.ref in html
    assert _db.session.get(Ticket, t.id).status == Status.RESOLVED  # a GET is only a page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    path = link.split("?")[0]
    refused = client.post(path, data={"confirm-solved": "1", "confirm-rating": "5"})
    assert refused.status_code == 400  # no CSRF token: nothing recorded
    assert _db.session.get(Ticket, t.id).status == Status.RESOLVED
    done = client.post(path, data={"confirm-csrf_token": token, "confirm-solved": "1",
                                   "confirm-rating": "5", "confirm-comment": "Ευχαριστούμε!"})
    assert done.status_code == 302
    t = _db.session.get(Ticket, t.id)
    assert (t.status, t.rating, t.rating_comment, t.confirmed_via) == ("closed", 5, "Ευχαριστούμε!",
                                                                       "link")
    again = client.get(link).get_data(as_text=True)
    assert "η ερώτηση έχει απαντηθεί" in again or "έκλεισε" in again
    assert "confirm-solved" not in again  # answered: no form any more


def test_the_no_link_reopens(client, w):
    t = resolved(w)
    link = links_of(school_mail(t, w.school_a))["no"]
    html = client.get(link).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    client.post(link.split("?")[0], data={"confirm-csrf_token": token,
                                          "confirm-not_solved": "1"})
    assert _db.session.get(Ticket, t.id).status == Status.OPEN


@pytest.mark.parametrize("how", ["tampered", "cut", "expired", "other_secret"])
def test_a_bad_link_says_so_in_greek_and_changes_nothing(client, w, app, monkeypatch, how):
    t = resolved(w)
    link = links_of(school_mail(t, w.school_a))["yes"]
    path = link.split("?")[0]
    token = unquote(path.split("/confirm/")[1])
    if how == "tampered":
        token = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    elif how == "cut":
        token = token[:-4]
    elif how == "expired":
        monkeypatch.setitem(app.config, "CONFIRM_LINK_DAYS", 0)
    else:
        with app.test_request_context():
            monkeypatch.setitem(app.config, "SECRET_KEY", "another site's secret")
            token = confirm_links.make_token(t.id, w.school_a.id, t.resolved_at)
        monkeypatch.undo()
    if how == "expired":
        import time
        time.sleep(1.1)  # itsdangerous counts whole seconds
    csrf = csrf_token(client, "/login")
    for method in ("get", "post"):
        response = getattr(client, method)(f"/confirm/{token}", data={
            "confirm-solved": "1", "confirm-csrf_token": csrf})
        html = response.get_data(as_text=True)
        assert response.status_code == (410 if how == "expired" else 400)
        assert ("έχει λήξει" if how == "expired" else "δεν είναι έγκυρος") in html
    assert _db.session.get(Ticket, t.id).status == Status.RESOLVED


def test_a_link_of_an_earlier_resolution_does_not_answer_a_later_one(client, w):
    t = resolved(w)
    old = links_of(school_mail(t, w.school_a))["yes"]
    services.reopen(w.l1, t, "Ξανανοίγει από τον τεχνικό.", now=at(20))
    services.resolve(w.l1, t, resolution(), "Τώρα σίγουρα.", now=at(30))
    _db.session.commit()
    html = client.get(old).get_data(as_text=True)
    assert "confirm-solved" not in html
    response = client.post(old.split("?")[0], data={
        "confirm-solved": "1", "confirm-csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 200
    assert _db.session.get(Ticket, t.id).status == Status.RESOLVED


def test_a_link_of_another_school_is_refused(client, w, app):
    t = resolved(w)
    with app.test_request_context():
        token = confirm_links.make_token(t.id, w.school_b.id, t.resolved_at)
    assert client.get(f"/confirm/{token}").status_code == 400


# --- the ticket page -------------------------------------------------------------------------

def test_the_school_confirms_on_its_ticket_page_and_staff_see_it(client, w):
    t = resolved(w)
    _db.session.commit()
    login(client, w.user_a)
    page = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "confirm-solved" in page and 'action="/tickets/' in page
    response = act(client, t.ref, "confirm", solved="1", rating="2", comment="Άργησε λίγο.")
    assert response.status_code == 302
    t = _db.session.get(Ticket, t.id)
    assert (t.status, t.rating, t.confirmed_via) == ("closed", 2, "web")
    staff = client.application.test_client()
    login(staff, w.l1)
    html = staff.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "Βαθμολογία: 2/5" in html and "Άργησε λίγο." in html
    assert "school-confirmation" in html


def test_staff_get_no_confirm_form(client, w):
    t = resolved(w)
    _db.session.commit()
    login(client, w.l1)
    assert "confirm-solved" not in client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert act(client, t.ref, "confirm", solved="1").status_code == 403


def test_a_thank_you_in_the_timeline_does_not_reopen(w):
    """The mail path end to end is in tests/test_mail_golden.py (67–70); here the service
    the gateway calls keeps the school's words as its message."""
    t = resolved(w)
    address = SchoolAddress(w.school_a.id, w.school_a.email)
    message = services.confirm(address, t, now=at(10), via="email",
                               body="Ευχαριστούμε πολύ, λειτουργεί!")
    assert isinstance(message, Message) and message.channel == "email"
    assert t.status == Status.CLOSED and t.confirmed_via == "email"
    with pytest.raises((Conflict, PermissionDenied)):
        services.not_solved(address, t, now=at(11))
