"""The golden set: every tests/data/mail/*.eml through the real pipeline on the database.

Files may hold placeholders filled in at test time, since ticket ids and signatures
exist only then: ``{{SIGNED:<ticket>:<who>}}`` a signed Message-ID of ours for that
ticket and recipient (address = the school's plain address), ``{{REF:<ticket>}}`` the
reference in Latin letters, ``{{REF_GR:<ticket>}}`` in Greek, ``{{ID:…}}``/``{{UID:…}}``.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.accounts.models import Role
from helpdesk.accounts.services import create_user
from helpdesk.core.text import fold
from helpdesk.mail import process, store
from helpdesk.mail.ids import make_message_id
from helpdesk.mail.models import InboundMessage
from helpdesk.org.models import School
from helpdesk.tickets import services
from helpdesk.tickets.models import Attachment, Message, Ticket
from tests import factories as f

DATA = Path(__file__).parent / "data" / "mail"
EXPECTED = json.loads((DATA / "expected.json").read_text())
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
OWN = "helpdesk@sch.gr"


class Golden:
    """Two schools with fixed addresses, their people and tickets in every state."""

    def __init__(self, app):
        self.secret = app.config["SECRET_KEY"]
        self.a = self._school("9100001", "Γυμνάσιο Άλφα", "mail@gym-alfa.thess.sch.gr")
        self.b = self._school("9100002", "Λύκειο Βήτα", "mail@lyk-beta.thess.sch.gr")
        self.director = create_user("director@gym-alfa.example.gr", "Διευθυντής Άλφα", Role.SCHOOL,
                                    f.PASSWORD, school=self.a)
        unit = f.unit_at(self.a, 1)
        self.tech = create_user("tech.alfa@plinet.example.gr", "Τεχνικός Α", Role.TECHNICIAN,
                                f.PASSWORD, units=[unit])
        self.tech2 = create_user("tech.beta@plinet.example.gr", "Τεχνικός Β", Role.TECHNICIAN,
                                 f.PASSWORD, units=[unit])
        t0 = NOW - timedelta(days=30)
        self.tickets = {name: services.open_ticket(
            self.director, school=self.a, category=f.category(), subject=f"Δοκιμή {name}",
            description="Μπλοκάρει το χαρτί στο ΣΕΠΕΗΥ.", now=t0)
                        for name in ("open", "waiting", "resolved_recent", "resolved_old", "closed")}
        services.reply(self.tech, self.tickets["waiting"], "Στείλτε μας τον σειριακό αριθμό.",
                       now=t0 + timedelta(hours=1), await_school=True)
        for name, days in (("resolved_recent", 2), ("resolved_old", 20), ("closed", 25)):
            services.resolve(self.tech, self.tickets[name], f.resolution(), "Επιλύθηκε εξ αποστάσεως.",
                             now=NOW - timedelta(days=days))
        services.close_resolved(now=NOW, older_than=timedelta(days=21))
        self.users = {"address": 0, "tech": self.tech.id, "tech2": self.tech2.id,
                      "director": self.director.id}

    def note(self, ticket, who: str):
        """Our notification about ``ticket`` to the school ("school") or its unit ("unit")."""
        from helpdesk.outbox.models import Notification

        f.db.session.commit()  # the notifications are written at the commit
        kind = {"school": "ack", "unit": "new_ticket"}[who]
        address = {"school": self.a.email, "unit": None}[who]
        stmt = select(Notification).where(Notification.ticket_id == ticket.id,
                                          Notification.kind == kind)
        if address:  # the school's official address (the filer is mailed too)
            stmt = stmt.where(Notification.recipient_email == address)
        return f.db.session.scalar(stmt.order_by(Notification.id).limit(1))

    @staticmethod
    def _school(code, name, email) -> School:
        d = f.directorate("dide-thess-v")
        school = School(code=code, name=name, name_folded=fold(name), school_type="GYM",
                        email=email, directorate_id=d.id)
        f.db.session.add(school)
        f.db.session.flush()
        return school

    def fill(self, raw: bytes) -> bytes:
        def sub(match):
            kind, *args = match.group(1).decode().split(":")
            ticket = self.tickets.get(args[0]) if args else None
            if kind == "SIGNED":
                return make_message_id(self.secret, ticket.id, self.users[args[1]],
                                       "arogi.test").encode()
            if kind == "REF":
                return ticket.ref.replace("ΑΡ", "AR").encode()
            if kind == "REF_GR":
                return ticket.ref.encode()
            if kind == "ID":
                return str(ticket.id).encode()
            if kind == "UID":
                return str(self.users[args[0]]).encode()
            if kind == "NOTE":  # the Message-ID of a notification we sent about it
                return self.note(ticket, args[1]).message_id.encode()
            raise AssertionError(kind)

        return re.sub(rb"\{\{([A-Z_]+(?::[a-z_0-9]+)*)\}\}", sub, raw)


@pytest.fixture
def golden(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_OWN_ADDRESSES", [OWN])
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    return Golden(app)


def ingest(golden, name: str) -> InboundMessage:
    raw = golden.fill((DATA / name).read_bytes())
    inbound_id, _ = store.accept(raw, source="test", now=NOW)
    process.run(inbound_id, now=NOW)
    return f.db.session.get(InboundMessage, inbound_id)


def test_the_golden_set_is_complete():
    names = sorted(p.name for p in DATA.glob("*.eml"))
    assert len(names) >= 30
    assert set(names) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden(golden, name):
    exp = EXPECTED[name]
    if "duplicate_of" in exp:
        first = ingest(golden, exp["duplicate_of"])
        again = ingest(golden, name)
        assert again.id == first.id
        assert f.db.session.scalar(select(func.count(Ticket.id)).where(
            Ticket.school_id == golden.a.id, Ticket.channel == "email")) == 1
        return
    row = ingest(golden, name)
    assert (row.status, row.reason) == (exp["status"], exp.get("reason")), row.detail
    if "auth" in exp:  # the trusted Authentication-Results, stored on the message
        got = row.auth_results and {k: v["result"] for k, v in row.auth_results.items()
                                    if isinstance(v, dict)}
        assert (got and {k: got.get(k) for k in exp["auth"]}) == exp["auth"], got
    if exp.get("ingest_twice"):
        assert ingest(golden, name).id == row.id
    _check_notification(row, exp)
    if "bounce" in exp:
        _check_bounce(golden, exp["bounce"])
    if row.status != "processed":
        assert row.ticket_id is None or exp["status"] == "quarantined"
        return
    ticket = f.db.session.get(Ticket, row.ticket_id)
    action = exp["action"]
    if action == "thanks":  # a thank-you for a closed request: kept on it, nothing filed
        assert ticket.id == golden.tickets[exp["ticket"]].id and row.message_id is None
        assert ticket.status == exp["ticket_status"]
        assert f.db.session.scalar(select(func.count(Ticket.id)).where(
            Ticket.channel == "email")) == 0
        return
    if action in ("new_ticket", "follow_up"):
        assert row.message_id is None and ticket.channel == "email"
        assert ticket not in golden.tickets.values()
        school = {"A": golden.a, "B": golden.b}[exp.get("school", "A")]
        assert ticket.school_id == school.id
        text = ticket.description
        if "subject" in exp:
            assert ticket.subject == exp["subject"]
        if action == "follow_up":
            assert ticket.related_ticket_id == golden.tickets[exp["related"]].id
        else:
            assert ticket.related_ticket_id is None
        author_id, author_email = ticket.created_by_id, None
    else:
        assert ticket.id == golden.tickets[exp["ticket"]].id
        message = f.db.session.get(Message, row.message_id)
        assert message.channel == "email" and not message.is_internal
        text, author_id, author_email = message.body, message.author_id, message.author_email
        if "ticket_status" in exp:
            assert ticket.status == exp["ticket_status"]
    _check_author(golden, exp.get("author"), author_id, author_email, row)
    _check_actor_and_notices(golden, ticket, row, exp)
    for needle in exp.get("body_contains", []):
        assert needle in text
    for needle in exp.get("body_excludes", []):
        assert needle not in text
    if "quoted_contains" in exp:
        assert exp["quoted_contains"] in row.quoted_text
    if "attachments" in exp:
        stored = f.db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()
        assert sorted(a.filename for a in stored) == sorted(exp["attachments"])
        assert all(re.fullmatch(r"[0-9a-f]{32}", a.stored_name) for a in stored)
    assert "\r" not in ticket.subject and "\n" not in ticket.subject


def _check_author(golden, who, author_id, author_email, row):
    if who == "address":
        assert author_id is None and (author_email or row.from_addr) == row.from_addr
    elif who == "director":
        assert author_id == golden.director.id
    elif who == "tech":
        assert author_id == golden.tech.id


def _check_actor_and_notices(golden, ticket, row, exp):
    """A school writing by its address is the actor of its change: recorded as the address,
    its unit (or technician) is told, and the school is not sent its own words back."""
    from helpdesk.outbox.models import Notification
    from helpdesk.tickets.models import TicketEvent

    if exp.get("actor_email"):
        events = f.db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.at == NOW)).all()
        assert events and all(e.actor_id is None and e.actor_email == row.from_addr
                              for e in events)
    if "notices" in exp:
        notes = f.db.session.scalars(select(Notification).where(
            Notification.ticket_id == ticket.id, Notification.created_at == NOW)).all()
        to = {"school": golden.a.email, "tech": golden.tech.email}
        got = sorted((n.kind, next((k for k, v in to.items() if v == n.recipient_email), "unit"))
                     for n in notes)
        assert got == sorted(tuple(x) for x in exp["notices"]), got
        for note in notes:  # names who wrote: the school and its address, never "από :"
            assert golden.a.name in note.body and "από :" not in note.body
            assert note.is_automatic == (note.kind != "school_reply")


def _check_bounce(golden, exp):
    """The bounced notification is marked with the reported status; the address counted."""
    from helpdesk.outbox.models import Notification, Suppression

    notes = f.db.session.scalars(select(Notification).where(
        Notification.bounce_status.is_not(None))).all()
    if exp.get("note") is None:
        assert notes == []
    else:
        ticket, who = exp["note"].split(":")
        note = golden.note(golden.tickets[ticket], who)
        assert [n.id for n in notes] == [note.id]
        assert (note.status, note.bounce_status) == (exp["note_status"], exp["status"])
        assert exp["status"] in note.last_error and exp.get("diagnostic", "") in note.last_error
    counted = {s.address: (s.hard_count, s.soft_count, s.is_suppressed)
               for s in f.db.session.scalars(select(Suppression))}
    assert counted == {a: tuple(v) for a, v in exp.get("counted", {}).items()}


def _check_notification(row, exp):
    from helpdesk.outbox.models import Notification

    sent = f.db.session.scalars(select(Notification).where(
        Notification.recipient_email == (row.from_addr or "-"),
        Notification.kind == "mail_unknown_sender")).all()
    if "notification" in exp:
        assert len(sent) == (1 if exp["notification"] else 0)
    for note in sent:
        assert "\n" not in note.subject and "\r" not in note.subject


def test_golden_30_mb_attachment_is_refused_but_the_request_is_filed(golden):
    """Generated here rather than committed: 30 MB of PDF in base64 (≈41 MB of mail)."""
    import base64

    blob = base64.encodebytes(b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024)).replace(b"\n", b"\r\n")
    raw = (b"From: <mail@gym-alfa.thess.sch.gr>\r\nTo: helpdesk@sch.gr\r\nSubject: scan\r\n"
           b"Message-ID: <35.golden@client.example.gr>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"B35\"\r\n\r\n--B35\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
           + "Σας στέλνω τη σάρωση του εγγράφου.".encode() + b"\r\n--B35\r\n"
           b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--B35--\r\n")
    inbound_id, _ = store.accept(raw, source="test", now=NOW)
    assert process.run(inbound_id, now=NOW) == "processed"
    row = f.db.session.get(InboundMessage, inbound_id)
    ticket = f.db.session.get(Ticket, row.ticket_id)
    assert row.size == len(raw) and "scan.pdf" in ticket.description
    assert f.db.session.scalar(select(func.count(Attachment.id)).where(
        Attachment.ticket_id == ticket.id)) == 0


def test_golden_an_old_quarantined_message_with_nul_is_reprocessed(golden):
    """Before control characters were stripped, a NUL failed the processing (PostgreSQL
    refuses it in text) and the message was quarantined as an error; processing it again
    now files the request."""
    from helpdesk.mail import services as mail_services
    from helpdesk.mail.models import InboundStatus

    raw = golden.fill((DATA / "57_nul_and_controls_in_text.eml").read_bytes())
    inbound_id, _ = store.accept(raw.replace(b"<57.golden", b"<57b.golden"), source="test",
                                 now=NOW)
    row = f.db.session.get(InboundMessage, inbound_id)
    row.status, row.reason, row.attempts = InboundStatus.QUARANTINED, "error", 3
    row.detail = "DataError('A string literal cannot contain NUL (0x00) characters.')"
    f.db.session.commit()
    mail_services.reprocess(f.make_admin(), row, now=NOW)
    f.db.session.commit()
    assert process.run(inbound_id, now=NOW) == "processed"
    ticket = f.db.session.get(Ticket, f.db.session.get(InboundMessage, inbound_id).ticket_id)
    assert "\x00" not in ticket.description and "\x00" not in ticket.subject


FORGED_ON_TOP = (
    b"Authentication-Results: mx.sch.gr; dmarc=pass header.from=gym-alfa.thess.sch.gr\r\n"
    b"Authentication-Results: mx-in.sch.gr; spf=fail smtp.mailfrom=mail@gym-alfa.thess.sch.gr;"
    b" dmarc=fail header.from=gym-alfa.thess.sch.gr\r\n"
    b"From: <mail@gym-alfa.thess.sch.gr>\r\nTo: helpdesk@sch.gr\r\nSubject: Test\r\n"
    b"Message-ID: <auth-%d@client.example.gr>\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"\r\nThe printer does not print.\r\n")


@pytest.mark.parametrize("authserv_id,quarantine,status", [
    ("mx-in.sch.gr", True, "quarantined"),   # ours says fail; the forged one on top is ignored
    ("", True, "processed"),                 # unset: the topmost is believed
    ("mx-in.sch.gr", False, "processed"),    # configured off: recorded, not acted on
])
def test_golden_only_our_mtas_authentication_results_count(golden, app, monkeypatch,
                                                           authserv_id, quarantine, status):
    monkeypatch.setitem(app.config, "MAIL_AUTHSERV_ID", authserv_id)
    monkeypatch.setitem(app.config, "MAIL_AUTH_QUARANTINE", quarantine)
    raw = FORGED_ON_TOP % (len(authserv_id) * 2 + quarantine)
    inbound_id, _ = store.accept(raw, source="test", now=NOW)
    assert process.run(inbound_id, now=NOW) == status
    row = f.db.session.get(InboundMessage, inbound_id)
    assert row.auth_results["authserv_id"] == (authserv_id or "mx.sch.gr")
    if status == "quarantined":
        assert row.reason == "auth_failed"
