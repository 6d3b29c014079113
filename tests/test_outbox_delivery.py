"""Delivery through a real SMTP server on loopback (aiosmtpd): headers, language,
retries with back-off on 4xx, failure on 5xx shown on the ticket, one mail per
notification even when two workers deliver it at once."""
from __future__ import annotations

import asyncio
import email
import socket
import threading
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

import workers.outbox_jobs as jobs
from helpdesk.core.types import utcnow
from helpdesk.extensions import db as _db
from helpdesk.mail.ids import ThreadRef, find_thread, verify_message_id
from helpdesk.outbox.delivery import backoff, thread_root
from helpdesk.outbox.models import Notification
from helpdesk.tickets import services
from tests.factories import World, at, make_ticket
from tests.web import login

# --- an SMTP sink ----------------------------------------------------------------------------

class Sink:
    """An aiosmtpd handler that keeps what it accepts; ``answers`` are given first."""

    def __init__(self):
        self.received: list = []
        self.answers: list[str] = []
        self.attempts = 0
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            answer = self.answers.pop(0) if self.answers else "250 OK"
        if self.delay:
            await asyncio.sleep(self.delay)
        if answer.startswith("250"):
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            with self.lock:
                self.received.append((list(envelope.rcpt_tos), message))
        return answer

    def to(self, address):
        return [m for rcpts, m in self.received if address in rcpts]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on a free loopback port, and the app sending to it."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    state = app.extensions["mail"]
    monkeypatch.setattr(state, "suppress", False)
    monkeypatch.setattr(state, "server", "127.0.0.1")
    monkeypatch.setattr(state, "port", controller.port)
    monkeypatch.setattr(state, "use_tls", False)
    monkeypatch.setattr(state, "use_ssl", False)
    monkeypatch.setitem(app.config, "MAIL_SEND_TIMEOUT", 10)
    yield sink
    controller.stop()


@pytest.fixture
def w(db):
    return World()


def pending_ids(ticket=None):
    stmt = select(Notification.id).where(Notification.status == "pending").order_by(Notification.id)
    if ticket is not None:
        stmt = stmt.where(Notification.ticket_id == ticket.id)
    return list(_db.session.scalars(stmt))


def deliver_all(ticket=None):
    outcomes = [jobs.deliver_notification(i) for i in pending_ids(ticket)]
    _db.session.expire_all()
    return outcomes


def note(note_id) -> Notification:
    _db.session.expire_all()
    return _db.session.get(Notification, note_id)


# --- what arrives ----------------------------------------------------------------------------

def test_the_school_receives_the_acknowledgement_with_our_headers(w, smtp, app):
    t = make_ticket(w.user_a)
    _db.session.commit()
    assert set(deliver_all(t)) == {"sent"}
    (ack,) = smtp.to(w.school_a.email)
    secret = app.config["SECRET_KEY"]
    assert t.ref in ack["Subject"] and "Λάβαμε το αίτημά σας" in ack["Subject"]
    assert ack["Auto-Submitted"] == "auto-generated"
    assert verify_message_id(secret, ack["Message-ID"]).ticket_id == t.id
    root = thread_root(secret, t.id, "sch.gr")
    assert ack["In-Reply-To"] == root and ack["References"] == root
    assert verify_message_id(secret, root) == ThreadRef(t.id, 0)
    assert ack["Reply-To"].addresses[0].addr_spec == "helpdesk@sch.gr"
    assert ack["From"].addresses[0].addr_spec == "helpdesk@sch.gr"
    assert ack["List-Id"] is None and ack["Precedence"] is None
    assert ack["Content-Language"] == "el"
    assert ack.get_content_type() in ("multipart/mixed", "multipart/alternative")
    text = ack.get_body(("plain",)).get_content()
    html = ack.get_body(("html",)).get_content()
    assert t.ref in text and "Λάβαμε το αίτημά σας" in text and t.ref in html
    # a reply to it is matched to the ticket by its In-Reply-To alone
    assert find_thread(secret, ack["Message-ID"]).ticket_id == t.id
    assert pending_ids(t) == []


def test_a_technicians_mail_names_them_in_a_verifiable_message_id(w, smtp, app):
    w.l1.locale = "en"
    t = make_ticket(w.user_a)
    services.assign(w.manager, t, w.l1, now=at(1))
    _db.session.commit()
    deliver_all(t)
    (mail,) = smtp.to(w.l1.email)
    ref = verify_message_id(app.config["SECRET_KEY"], mail["Message-ID"])
    assert ref == ThreadRef(t.id, w.l1.id)
    assert mail["Content-Language"] == "en" and "Assigned to you" in mail["Subject"]
    assert "assigned request" in mail.get_body(("plain",)).get_content()
    # a forged one does not verify
    assert verify_message_id(app.config["SECRET_KEY"],
                             mail["Message-ID"].replace(f".u{w.l1.id}.", ".u1.")) is None


def test_internal_notes_never_reach_the_school_by_mail(w, smtp):
    t = make_ticket(w.user_a)
    services.add_note(w.l1, t, "ΕΣΩΤΕΡΙΚΟ: ο κωδικός είναι 1234", now=at(1))
    services.reply(w.l1, t, "Αλλάξτε το τόνερ παρακαλώ.", now=at(2))
    _db.session.commit()
    deliver_all(t)
    school_mail = smtp.to(w.school_a.email)
    assert len(school_mail) == 2  # acknowledgement and reply
    for m in school_mail:
        assert "ΕΣΩΤΕΡΙΚΟ" not in m.as_string() and "1234" not in m.get_body(("plain",)).get_content()
    reply = school_mail[-1]
    assert "τόνερ" in reply.get_body(("plain",)).get_content()
    assert reply["Auto-Submitted"] is None  # a person's reply, relayed: not auto-generated


def test_a_subject_with_line_breaks_cannot_add_headers(w, smtp):
    t = make_ticket(w.user_a)
    t.subject = "Χαλασμένο\r\nBcc: victim@example.com\r\nX-Evil: 1"  # as if it came by mail
    _db.session.commit()
    deliver_all(t)
    assert all(rcpts != ["victim@example.com"] for rcpts, _ in smtp.received)
    for rcpts, m in smtp.received:
        assert "victim@example.com" not in rcpts
        assert m["Bcc"] is None and m["X-Evil"] is None
        assert "\n" not in m["Subject"]


# --- failures ------------------------------------------------------------------------------

def test_451_then_250_is_retried_with_backoff_and_sent_once(w, smtp, monkeypatch):
    t = make_ticket(w.user_a)
    _db.session.commit()
    (ack_id,) = [i for i in pending_ids(t) if note(i).kind == "ack"
                 and note(i).recipient_email == w.school_a.email]
    for other in pending_ids(t):
        if other != ack_id:
            jobs.deliver_notification(other)
    smtp.received.clear()
    smtp.attempts = 0
    smtp.answers = ["451 4.3.0 Mailbox busy, try later", "451 4.3.0 Still busy"]

    start = utcnow()
    assert jobs.deliver_notification(ack_id) == "retry"
    row = note(ack_id)
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.last_error
    assert timedelta(seconds=55) < row.next_attempt_at - start < timedelta(seconds=65)
    # not due yet: a second delivery (or the sweep) leaves it alone
    assert jobs.deliver_notification(ack_id) == "skipped"
    assert smtp.attempts == 1

    later = start + timedelta(minutes=2)
    monkeypatch.setattr(jobs, "utcnow", lambda: later)
    assert jobs.deliver_notification(ack_id) == "retry"  # the second 451: waits twice as long
    row = note(ack_id)
    assert row.attempts == 2 and row.next_attempt_at == later + timedelta(seconds=120)

    monkeypatch.setattr(jobs, "utcnow", lambda: later + timedelta(minutes=3))
    assert jobs.deliver_notification(ack_id) == "sent"
    assert jobs.deliver_notification(ack_id) == "skipped"
    row = note(ack_id)
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None
    assert smtp.attempts == 3 and len(smtp.to(w.school_a.email)) == 1


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n, 60, 3600).total_seconds() for n in (1, 2, 3, 6, 7, 20)] == \
        [60, 120, 240, 1920, 3600, 3600]


def test_an_unreachable_server_is_a_temporary_failure(w, app, monkeypatch):
    state = app.extensions["mail"]
    monkeypatch.setattr(state, "suppress", False)
    monkeypatch.setattr(state, "server", "127.0.0.1")
    monkeypatch.setattr(state, "port", free_port())  # nobody listens
    t = make_ticket(w.user_a)
    _db.session.commit()
    assert set(deliver_all(t)) == {"retry"}
    for i in pending_ids(t):
        assert "unavailable" in note(i).last_error


def test_running_out_of_attempts_fails_the_notification(w, smtp, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAIL_SEND_MAX_ATTEMPTS", 1)
    smtp.answers = ["421 4.7.0 Too many connections"] * 5
    t = make_ticket(w.user_a)
    _db.session.commit()
    deliver_all(t)
    rows = _db.session.scalars(select(Notification).where(Notification.ticket_id == t.id)).all()
    assert {r.status for r in rows} == {"failed"} and "gave up" in rows[0].last_error


def test_550_fails_and_the_ticket_page_shows_it_to_staff_only(w, smtp, client):
    t = make_ticket(w.user_a)
    _db.session.commit()
    smtp.answers = ["550 5.1.1 <mail@nowhere> No such user"] * 5
    assert "failed" in deliver_all(t)
    failed = _db.session.scalars(select(Notification).where(
        Notification.ticket_id == t.id, Notification.status == "failed")).all()
    assert failed and failed[0].last_error.startswith("550 5.1.1")
    assert jobs.deliver_notification(failed[0].id) == "skipped"  # never retried
    login(client, w.l1)
    html = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "No such user" in html and failed[0].recipient_email in html
    school = client.application.test_client()
    login(school, w.user_a)
    assert "No such user" not in school.get(f"/tickets/{t.ref}").get_data(as_text=True)


def test_suppressed_mail_is_marked_sent_without_a_connection(w, app, monkeypatch):
    monkeypatch.setattr(app.extensions["mail"], "suppress", True)
    monkeypatch.setattr(app.extensions["mail"], "port", free_port())  # would fail if used
    t = make_ticket(w.user_a)
    _db.session.commit()
    assert set(deliver_all(t)) == {"sent"}


# --- two workers, one notification -------------------------------------------------------------

def test_two_concurrent_deliveries_of_one_notification_send_one_mail(app, smtp):
    """Real commits on separate connections (outside the per-test rollback), cleaned up."""
    smtp.delay = 0.5
    with app.app_context():
        row = Notification(kind="test", recipient_email="mail@race.test.sch.gr",
                           subject="Δοκιμή ταυτόχρονης αποστολής", body="σώμα",
                           dedupe_key=f"test:race:{utcnow().timestamp()}", created_at=utcnow())
        _db.session.add(row)
        _db.session.commit()
        note_id = row.id
    try:
        barrier = threading.Barrier(2)
        results: list = []

        def run():
            barrier.wait()
            results.append(jobs.deliver_notification(note_id))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert sorted(results) == ["sent", "skipped"]
        assert len(smtp.to("mail@race.test.sch.gr")) == 1 and smtp.attempts == 1
    finally:
        with app.app_context():
            _db.session.execute(Notification.__table__.delete().where(Notification.id == note_id))
            _db.session.commit()
