"""Outgoing mail within the limits of mail servers and readable by every reader.

Every template (each notification kind, both languages, and the answer to unknown
senders) is rendered with a long one-paragraph description, built exactly as delivery
builds it, and checked as bytes: no line over 998 octets (RFC 5322 §2.1.1), every text
part quoted-printable, and the subject decoded to exactly what was written by two
decoders: the ``email.policy.default`` parser, and ``email.header.decode_header`` on the
raw folded header (joined by ``make_header`` and by hand)."""
from __future__ import annotations

import email
import re
from email import policy
from email.header import decode_header, make_header

import pytest

from helpdesk.notify.recipients import LOCALES
from helpdesk.notify.render import render
from helpdesk.notify.rules import Audience, Intent, Kind
from helpdesk.outbox.delivery import build_message
from helpdesk.outbox.models import Notification
from tests.factories import World, make_ticket

SUBJECT = ("Δεν λειτουργεί ο διαδραστικός πίνακας – δεν ανάβει καθόλου η λάμπα "
           "του προβολέα στην αίθουσα 12 (ΣΕΠΕΗΥ)")
LONG = ("Ο διαδραστικός πίνακας της αίθουσας δεν ανάβει και ο προβολέας δείχνει "
        "μπλε οθόνη, <b>δοκιμάσαμε</b> άλλο καλώδιο & άλλη πρίζα. ") * 60


@pytest.fixture
def ticket(db):
    w = World()
    t = make_ticket(w.user_a, subject=SUBJECT)
    t.description = LONG
    return t


def _raw_subject(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    match = re.search(r"^Subject:([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.MULTILINE)
    return match.group(1).replace("\r\n", "").strip()


def _check(note: Notification, expected_subject: str) -> None:
    message = build_message(note)
    message.date = 0
    raw = message.as_bytes()
    assert raw.isascii()  # no raw 8-bit anywhere: every part is encoded
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=policy.default)
    for part in parsed.walk():
        if part.get_content_maintype() == "text":
            assert part["Content-Transfer-Encoding"] == "quoted-printable"
            assert all(len(line) <= 78 for line in part.get_payload().splitlines())
    assert parsed["Subject"] == expected_subject
    folded = _raw_subject(raw)
    assert str(make_header(decode_header(folded))) == expected_subject
    assert "".join(b.decode(cs or "ascii") if isinstance(b, bytes) else b
                   for b, cs in decode_header(folded)) == expected_subject
    assert parsed["X-Arogi-Loop"] == "sch.gr"  # the site id: the domain of our ids
    assert (parsed["Auto-Submitted"] == "auto-generated") == note.is_automatic
    text = parsed.get_body(("plain",)).get_content()
    assert note.body.strip() in text.replace("\r\n", "\n")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(Kind))
def test_every_template_is_encoded_within_the_limits(app, ticket, kind, locale):
    mail = render(kind, locale, ref=ticket.ref, subject=ticket.subject,
                  school_name=ticket.school.name, unit=ticket.unit, category=ticket.category,
                  status=ticket.status, description=LONG, body=LONG, reason=LONG,
                  actor_name="Τεχνικός Α")
    if kind == Kind.NEW:
        assert any(len(line.encode()) > 998 for line in mail.html.splitlines())  # the test bites
    note = Notification(kind=str(kind), recipient_email="mail@gym-alfa.thess.sch.gr",
                        ticket_id=ticket.id, subject=mail.subject, body=mail.text,
                        body_html=mail.html, locale=locale,
                        is_automatic=Intent(kind, Audience.SCHOOL).is_automatic,
                        message_id="<x@sch.gr>")
    _check(note, mail.subject)
    assert SUBJECT in mail.subject


def test_the_answer_to_unknown_senders_is_encoded_too(app, db):
    with app.test_request_context():
        answer = render("mail_unknown_sender", "el")
    note = Notification(kind="mail_unknown_sender", recipient_email="parent@example.gr",
                        subject=answer.subject, body=answer.text, is_automatic=True, locale="el")
    _check(note, answer.subject)


@pytest.mark.parametrize("subject", ["Νέο αίτημα – Δεν ανάβει", "ο πίνακας δεν",
                                     "a " * 40 + "β " * 40 + "end", "  αρχή   και   τέλος "])
def test_spaces_between_encoded_words_survive(app, db, subject):
    from helpdesk.notify.render import header_text

    note = Notification(kind="x", recipient_email="a@example.gr", subject=subject,
                        body="κείμενο", is_automatic=True, locale="el")
    _check(note, header_text(subject))
