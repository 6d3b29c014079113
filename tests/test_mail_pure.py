"""The pure core of the mail pipeline: classification, threading, parsing (no app, no DB)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from helpdesk.mail import parse
from helpdesk.mail.classify import Kind, classify, may_answer
from helpdesk.mail.ids import ThreadRef
from helpdesk.mail.threading import Action, Sender, TicketFacts, clean_subject, decide, subject_refs

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)


def h(**values):
    return {k.replace("_", "-").lower(): [v] for k, v in values.items()}


# --- classification ----------------------------------------------------------------------

@pytest.mark.parametrize("headers,from_addr,kind", [
    (h(Subject="Βλάβη"), "mail@s.sch.gr", Kind.HUMAN),
    (h(Auto_Submitted="no"), "mail@s.sch.gr", Kind.HUMAN),
    (h(Auto_Submitted="auto-replied"), "mail@s.sch.gr", Kind.AUTO_REPLY),
    (h(Auto_Submitted="auto-generated; owner-email=x@y"), "a@b.gr", Kind.AUTO_REPLY),
    (h(Precedence="bulk"), "a@b.gr", Kind.AUTO_REPLY),
    (h(Precedence="junk"), "a@b.gr", Kind.AUTO_REPLY),
    (h(Precedence="list"), "a@b.gr", Kind.AUTO_REPLY),
    (h(Precedence="first-class"), "a@b.gr", Kind.HUMAN),
    (h(X_Auto_Response_Suppress="All"), "a@b.gr", Kind.AUTO_REPLY),
    (h(X_Auto_Response_Suppress="DR"), "a@b.gr", Kind.HUMAN),
    (h(List_Id="<l.sch.gr>"), "a@b.gr", Kind.AUTO_REPLY),
    (h(Subject="Out of Office: Re: x"), "a@b.gr", Kind.AUTO_REPLY),
    (h(Subject="Αυτόματη απάντηση: x"), "a@b.gr", Kind.AUTO_REPLY),
    (h(Subject="x"), "MAILER-DAEMON@mx.gr", Kind.BOUNCE),
    (h(Subject="x"), "postmaster@mx.gr", Kind.BOUNCE),
    (h(Return_Path="<>", Subject="Undelivered Mail Returned to Sender"), "x@y.gr", Kind.BOUNCE),
    (h(Return_Path="<>", Subject="Hello"), "x@y.gr", Kind.AUTO_REPLY),
    (h(Subject="x"), "helpdesk@sch.gr", Kind.LOOP),
    (h(Subject="x", X_Arogi_Loop="arogi.sch.gr"), "a@b.gr", Kind.LOOP),
    (h(Subject="x", X_Arogi_Loop="AROGI.sch.gr"), "a@b.gr", Kind.LOOP),
    (h(Subject="x", X_Arogi_Loop="other-site.example"), "a@b.gr", Kind.AUTO_REPLY),
    (h(Message_ID="<ours@x>"), "a@b.gr", Kind.LOOP),
])
def test_classify(headers, from_addr, kind):
    assert classify(headers, from_addr=from_addr, own_addresses=["helpdesk@sch.gr"],
                    is_our_message_id=lambda v: v == "<ours@x>",
                    loop_ids=["arogi.sch.gr"]) == kind


def test_delivery_status_reports_are_bounces_whoever_sends_them():
    assert classify({}, from_addr="a@b.gr", content_type="multipart/report",
                    report_type="delivery-status") == Kind.BOUNCE
    assert classify({}, from_addr="a@b.gr", content_type="multipart/report",
                    report_type="disposition-notification") == Kind.HUMAN


@pytest.mark.parametrize("addr,headers,ok", [
    ("parent@gmail.com", {}, True),
    ("no-reply@x.gr", {}, False),
    ("noreply@x.gr", {}, False),
    ("do-not-reply@x.gr", {}, False),
    ("list-bounces@x.gr", {}, False),
    ("", {}, False),
    ("a@b.gr", h(Return_Path="<>"), False),
    ("a@b.gr", h(X_Auto_Response_Suppress="OOF"), False),
])
def test_may_answer_only_people(addr, headers, ok):
    assert may_answer(Kind.HUMAN, addr, headers) is ok
    for kind in (Kind.AUTO_REPLY, Kind.BOUNCE, Kind.LOOP):
        assert may_answer(kind, addr, headers) is False


# --- threading ----------------------------------------------------------------------------

SCHOOL = Sender("mail@a.sch.gr", school_id=1)
OTHER_SCHOOL = Sender("mail@b.sch.gr", school_id=2)
TECH = Sender("tech@p.gr", user_id=7, is_staff=True)
STRANGER = Sender("x@gmail.com")


def facts(status="open", resolved_days=None, staff=True, school_id=1):
    resolved = NOW - timedelta(days=resolved_days) if resolved_days is not None else None
    return TicketFacts(10, school_id, status, resolved, staff)


def route(sender, signed=None, signed_ticket=None, subject_ticket=None):
    return decide(sender, signed=signed, signed_ticket=signed_ticket,
                  subject_ticket=subject_ticket, now=NOW, reopen_window=WINDOW)


@pytest.mark.parametrize("status,days,action", [
    ("new", None, Action.REPLY), ("open", None, Action.REPLY), ("waiting", None, Action.REPLY),
    ("resolved", 1, Action.REOPEN), ("resolved", 7, Action.REOPEN),
    ("resolved", 8, Action.FOLLOW_UP), ("closed", 30, Action.FOLLOW_UP),
])
def test_school_answers_by_status(status, days, action):
    for signed, subject in ((ThreadRef(10, 0), None), (None, True)):
        t = facts(status, days)
        got = route(SCHOOL, signed, t if signed else None, t if subject else None)
        assert got == (got.__class__(action, 10))


def test_technician_only_through_a_signed_id_naming_them():
    t = facts()
    assert route(TECH, ThreadRef(10, 7), t).action == Action.STAFF_REPLY
    assert route(TECH, ThreadRef(10, 8), t).reason == "unverified_staff"
    assert route(TECH, ThreadRef(10, 0), t).reason == "unverified_staff"
    assert route(TECH, None, None, t).reason == "unverified_staff"
    assert route(TECH).reason == "staff_no_thread"
    assert route(TECH, ThreadRef(10, 7), facts("resolved", 1)).reason == "ticket_not_open"


def test_subject_reference_only_for_participants():
    t = facts()
    assert route(OTHER_SCHOOL, None, None, t).action == Action.NEW_TICKET
    assert route(STRANGER, None, None, t).reason == "unknown_sender"
    assert route(STRANGER, ThreadRef(10, 0), t).reason == "unknown_sender"
    assert route(OTHER_SCHOOL, ThreadRef(10, 0), t).action == Action.NEW_TICKET
    non_viewer = TicketFacts(10, 1, "open", None, staff_may_view=False)
    assert route(TECH, None, None, non_viewer).reason == "staff_no_thread"


def test_every_combination_yields_a_decision_and_never_lets_strangers_in():
    senders = (SCHOOL, OTHER_SCHOOL, TECH, STRANGER)
    statuses = (("open", None), ("resolved", 1), ("resolved", 30), ("closed", 30))
    signs = (None, ThreadRef(10, 0), ThreadRef(10, 7), ThreadRef(10, 8))
    for sender, (status, days), signed, use_subject in product(senders, statuses, signs,
                                                               (False, True)):
        t = facts(status, days)
        d = route(sender, signed, t if signed else None, t if use_subject else None)
        if sender is STRANGER:
            assert d.action == Action.QUARANTINE
        if d.action == Action.STAFF_REPLY:
            assert sender is TECH and signed == ThreadRef(10, 7)
        if d.action in (Action.REPLY, Action.REOPEN, Action.FOLLOW_UP):
            assert sender is SCHOOL


@pytest.mark.parametrize("subject,clean", [
    ("Re: Βλάβη", "Βλάβη"), ("ΑΠ: Βλάβη", "Βλάβη"), ("AW: WG: Βλάβη", "Βλάβη"),
    ("Re[2]: Βλάβη", "Βλάβη"), ("RE: Re: Fwd: Βλάβη", "Βλάβη"), ("ΣΧΕΤ: Βλάβη", "Βλάβη"),
    ("Απάντηση για Βλάβη", "Απάντηση για Βλάβη"), ("Re:", ""),
])
def test_clean_subject(subject, clean):
    assert clean_subject(subject) == clean


@pytest.mark.parametrize("subject,refs", [
    ("Re: ΑΡ-2026-000123", [(2026, 123)]), ("AR-2026-000001 και AR-2025-999999", [(2026, 1), (2025, 999999)]),
    ("ΑR-2026-000042", [(2026, 42)]), ("XAR-2026-000001", []), ("AR-2026-000001-1", []),
    ("no ref", []),
])
def test_subject_refs(subject, refs):
    assert subject_refs(subject) == refs


# --- parsing ------------------------------------------------------------------------------

GREEK = "Ο εκτυπωτής δεν τυπώνει· Άνοιξε «μαύρη» οθόνη…"


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-7", "windows-1253"])
@pytest.mark.parametrize("declared", ["same", "iso-8859-1", "us-ascii", "", "bogus-charset"])
def test_decode_bytes_greek_whatever_the_label(charset, declared):
    text = GREEK if charset != "iso-8859-7" else GREEK.replace("…", "...")
    data = text.encode(charset)
    label = charset if declared == "same" else declared
    assert parse.decode_bytes(data, label) == text


def test_decode_bytes_keeps_latin_text():
    assert parse.decode_bytes("Café déjà".encode("latin-1"), "iso-8859-1") == "Café déjà"


def test_one_line_removes_header_injection():
    assert parse.one_line("a\r\nBcc: x@y\nZ\x00") == "a Bcc: x@y Z"


def test_split_quote_variants():
    assert parse.split_quote("Νέο\n\n> παλιό\n> παλιό") == ("Νέο", "> παλιό\n> παλιό")
    new, quoted = parse.split_quote("Νέο\nOn Mon, X wrote:\n> a")
    assert new == "Νέο" and quoted.startswith("On Mon")
    assert parse.split_quote("> όλο παράθεμα") == ("> όλο παράθεμα", "")
    text = "Απάντηση\n> ερώτηση 1\nαπάντηση 1\n> ερώτηση 2\nαπάντηση 2\nαπάντηση 3\nτέλος"
    assert parse.split_quote(text) == (text, "")
    assert parse.split_quote("Από: κάποιος\nκείμενο") == ("Από: κάποιος\nκείμενο", "")


def test_html_to_text_drops_active_content():
    text = parse.html_to_text('<p onclick="x()">Γεια<script>bad()</script></p><img src="http://e/t">'
                              '<a href="javascript:bad()">a</a><a href="https://ok.gr">b</a>')
    assert text.startswith("Γεια") and "bad" not in text and "http://e" not in text
    assert "b (https://ok.gr)" in text


def test_parse_never_raises_on_garbage():
    for raw in (b"", b"\x00\xff\xfe", b"Subject: \xc1\xe2\r\n\r\n\xe1", b"From:\r\n\r\n",
                b"Content-Type: multipart/mixed\r\n\r\nno boundary"):
        mail = parse.parse(raw)
        assert isinstance(mail.text, str)
    assert parse.parse(b"Subject: \xc2\xeb\xdc\xe2\xe7\r\n\r\nx").subject == "Βλάβη"


# --- the From header, strictly -----------------------------------------------------------

@pytest.mark.parametrize("value,addr,name", [
    ("<mail@gym-alfa.thess.sch.gr>", "mail@gym-alfa.thess.sch.gr", ""),
    ("mail@gym-alfa.thess.sch.gr", "mail@gym-alfa.thess.sch.gr", ""),
    ("Mail@Gym-Alfa.Thess.SCH.gr", "mail@gym-alfa.thess.sch.gr", ""),
    ("=?utf-8?B?zpPPhc68zr3OrM+DzrnOvyDOhs67z4bOsQ==?= <mail@a.sch.gr>", "mail@a.sch.gr",
     "Γυμνάσιο Άλφα"),
    ('"Σχολείο, Άλφα (ΓΕΛ)" <mail@a.sch.gr>', "mail@a.sch.gr", "Σχολείο, Άλφα (ΓΕΛ)"),
    ("mail@a.sch.gr (Γυμνάσιο Άλφα)", "mail@a.sch.gr", ""),
    ("Γυμνάσιο (το (παλιό)) Άλφα <mail@a.sch.gr>", "mail@a.sch.gr", "Γυμνάσιο Άλφα"),
    ('"mail@a.sch.gr" <mail@a.sch.gr>', "mail@a.sch.gr", "mail@a.sch.gr"),
    ("Name\r\n <first.last+tag@sub.example.gr>", "first.last+tag@sub.example.gr", "Name"),
    ("MAILER-DAEMON", "mailer-daemon", ""),
])
def test_a_well_formed_from_names_one_sender(value, addr, name):
    sender = parse.read_from([value])
    assert (sender.addr, sender.problem) == (addr, None)
    assert sender.name == name


@pytest.mark.parametrize("value", [
    "mail@a.sch.gr <attacker@evil.example>",
    '"mail@a.sch.gr" <attacker@evil.example>',
    "mail@a.sch.gr)<attacker@evil.example>",
    "mail@a.sch.gr, attacker@evil.example",
    "<mail@a.sch.gr>, <attacker@evil.example>",
    "=?utf-8?B?bWFpbEBhLnNjaC5ncg==?=",
    "Σχολείο <=?utf-8?B?bWFpbEBhLnNjaC5ncg==?=>",
    "=?utf-8?B?zpPPhc68zr3OrM+DzrnOvyA8bWFpbEBhLnNjaC5ncj4=?= <attacker@evil.example>",
    "mail@a.sch.gr (Γυμνάσιο Άλφα",
    "Γυμνάσιο (Άλφα <mail@a.sch.gr>",
    '"Γυμνάσιο <mail@a.sch.gr>',
    "<mail@a.sch.gr",
    "<mail@a.sch.gr> attacker@evil.example",
    "<<mail@a.sch.gr>>",
    "group: mail@a.sch.gr;",
    "mail@localhost",
    "mail@a..sch.gr",
    ".mail@a.sch.gr",
    "mail a@a.sch.gr",
    "<mail@[10.0.0.1]>",
    "<\"mail\"@a.sch.gr>",
    "mail@a.sch.gr>",
    "",
])
def test_a_malformed_from_is_never_a_sender(value):
    sender = parse.read_from([value])
    assert sender.problem and sender.addr == ""


def test_two_from_headers_are_refused():
    assert parse.read_from(["<a@a.sch.gr>", "<b@b.sch.gr>"]).problem
    assert parse.read_from([]) == parse.Sender()


# --- Authentication-Results --------------------------------------------------------------

def _verdicts(value: str):
    from helpdesk.mail import authresults

    return authresults.read([value])


@pytest.mark.parametrize("value,domain,fails", [
    ("mx; dmarc=fail header.from=a.sch.gr", "a.sch.gr", True),
    ("mx; dmarc=fail header.from=other.gr", "a.sch.gr", False),
    ("mx; spf=fail smtp.mailfrom=x@a.sch.gr; dmarc=pass header.from=a.sch.gr", "a.sch.gr", False),
    ("mx; spf=fail smtp.mailfrom=x@a.sch.gr", "a.sch.gr", True),
    ("mx; spf=softfail smtp.mailfrom=x@a.sch.gr; dkim=fail header.d=a.sch.gr", "a.sch.gr", True),
    ("mx; spf=fail smtp.mailfrom=x@a.sch.gr; dkim=pass header.d=sch.gr", "a.sch.gr", False),
    ("mx; spf=fail smtp.mailfrom=x@a.sch.gr; dkim=pass header.d=evil.example", "a.sch.gr", True),
    ("mx; spf=pass smtp.mailfrom=x@a.sch.gr; dkim=fail header.d=a.sch.gr", "a.sch.gr", False),
    ("mx; spf=fail smtp.mailfrom=bounce@relay.example", "a.sch.gr", False),
    ("mx; none", "a.sch.gr", False),
    ("garbage without structure ;;; =", "a.sch.gr", False),
])
def test_authentication_failures_for_a_domain(value, domain, fails):
    from helpdesk.mail import authresults

    assert authresults.fails_for(_verdicts(value), domain) is fails


def test_only_the_configured_authserv_id_is_believed():
    from helpdesk.mail import authresults

    values = ["forged.example; dmarc=pass header.from=a.sch.gr",
              "mx.sch.gr; dmarc=fail header.from=a.sch.gr"]
    assert authresults.read(values, "mx.sch.gr")["dmarc"]["result"] == "fail"
    assert authresults.read(values)["dmarc"]["result"] == "pass"  # unset: the topmost
    assert authresults.read(values, "other.example") is None
