"""What a school may read of its tickets: every event kind, on the web, in the API and in
the mail the school receives. Staff-to-staff text (notes, escalation reasons, return
instructions, the automatic escalation line) never reaches the school unless a technician
chose to tell it; the move itself always does."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from helpdesk.extensions import db as _db
from helpdesk.tickets import reasons
from helpdesk.tickets.models import TicketEvent
from tests.factories import World, at, make_ticket

# --- reason codes (helpdesk/tickets/reasons.py) --------------------------------------------

def test_a_reason_code_renders_in_the_readers_language(app):
    code, params = reasons.sla_level_time_out(1, None)
    assert (code, params) == ("sla.level_time_out", {"level": 1})
    with app.test_request_context(), force_locale("el"):
        assert reasons.render(code, params) == \
            "Αυτόματη κλιμάκωση: έληξε ο χρόνος του επιπέδου 1."
    with app.test_request_context(), force_locale("en"):
        assert reasons.render(code, params) == "Automatic escalation: level 1 time ran out."


def test_minutes_take_plural_forms(app):
    with app.test_request_context(), force_locale("el"):
        assert reasons.render(*reasons.sla_level_time_out(2, 840)) == \
            "Αυτόματη κλιμάκωση: έληξε ο χρόνος του επιπέδου 2 (840 λεπτά εργασίας)."
        assert "(1 λεπτό εργασίας)" in reasons.render(*reasons.sla_level_time_out(2, 1))
    with app.test_request_context(), force_locale("en"):
        assert reasons.render(*reasons.sla_level_time_out(2, 1)).endswith(
            "(1 working minute).")


def test_unknown_codes_and_bad_params_fall_back_to_the_stored_text(app):
    with app.test_request_context():
        assert reasons.render("no.such.code", {}) is None
        assert reasons.render("sla.level_time_out", {}) is None
        assert reasons.render("sla.level_time_out", {"level": "x"}) is None
        event = TicketEvent(reason="Γραμμένο από άνθρωπο", reason_code=None)
        assert reasons.text_of(event) == "Γραμμένο από άνθρωπο"


# --- the migration (migrations/versions/visibility01_event_visibility.py) -----------------

OLD_SLA_TEXT = ("Αυτόματη κλιμάκωση: έληξε ο χρόνος του επιπέδου 1 (840 λεπτά εργασίας). "
                "/ Automatic escalation: level 1 time ran out.")


def test_the_migration_sets_existing_rows(tmp_path):
    """Rows written before the columns existed get the flag of their kind, and the old
    bilingual automatic-escalation text its code (the text itself stays)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.conftest import make_app

    app = make_app(tmp_path / "instance", f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        upgrade(revision="m6schoolupd")
        import sqlite3

        raw = sqlite3.connect(tmp_path / "m.db")  # foreign keys off: events of no real ticket
        raw.executemany(
            "INSERT INTO ticket_events (id, ticket_id, actor_id, at, kind, field, reason, "
            "is_internal) VALUES (?, 1, NULL, '2026-03-02 08:00:00', ?, ?, ?, ?)", [
                (1, "created", "status", None, False), (2, "note", "message", None, True),
                (3, "escalate", "level", "Θέλει ΠΣΔ", False),
                (4, "escalate", "level", OLD_SLA_TEXT, False),
                (5, "return", "level", "Πάτε επιτόπου", False),
                (6, "resolve", "status", "Έγινε", False),
                (7, "escalate", "status", "Automatic escalation: level 2 time ran out.", False)])
        raw.commit()
        raw.close()
        upgrade(revision="visibility01")
        rows = {r.id: r for r in _db.session.execute(text(
            "SELECT id, is_shared_with_school, reason_code, reason_params, reason "
            "FROM ticket_events ORDER BY id"))}
        shared = {i: bool(r.is_shared_with_school) for i, r in rows.items()}
        assert shared == {1: True, 2: False, 3: False, 4: False, 5: False, 6: True, 7: False}
        assert rows[4].reason_code == "sla.level_time_out" and rows[4].reason == OLD_SLA_TEXT
        assert rows[7].reason_code == "sla.level_time_out"
        assert [rows[i].reason_code for i in (1, 2, 3, 5, 6)] == [None] * 5
        import json

        assert json.loads(rows[4].reason_params) == {"level": 1, "minutes": 840}
        assert json.loads(rows[7].reason_params) == {"level": 2}
        _db.session.commit()
        _db.engine.dispose()


# --- the writers ---------------------------------------------------------------------------

@pytest.fixture
def w(db):
    return World()


def _events(ticket, kind):
    return list(_db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind).order_by(TicketEvent.id)))


def test_writers_set_the_flag_by_kind_and_tell_school(w):
    from helpdesk.tickets import services

    t = make_ticket(w.user_a)
    services.add_note(w.l1, t, "Σημείωση μόνο για τεχνικούς.", now=at(1))
    services.escalate(w.l1, t, "Αιτιολογία κλιμάκωσης", now=at(2))
    services.return_to_lower(w.l2, t, "Οδηγίες για κάτω", now=at(3), tell_school=True)
    assert all(e.is_shared_with_school for e in _events(t, "created"))
    assert not any(e.is_shared_with_school for e in _events(t, "note"))
    assert not any(e.is_shared_with_school for e in _events(t, "escalate"))
    # (the status stays "new": an escalated ticket nobody took has no status event here)
    assert {e.field for e in _events(t, "return") if e.is_shared_with_school} == \
        {"level", "unit"}


def test_the_sweep_stores_a_reason_code(w):
    from helpdesk.sla.sweep import sweep

    t = make_ticket(w.user_a)
    _db.session.commit()
    assert sweep(now=at(0) + timedelta(days=3)).escalated == [t.id]
    (level,) = [e for e in _events(t, "escalate") if e.field == "level"]
    assert level.reason_code == "sla.level_time_out" and level.reason_params["level"] == 1
    assert not level.is_shared_with_school and level.actor_id is None


# --- every event kind, as the school and as staff: web, API, mail ---------------------------

#: Staff-to-staff text: never shown to the school, anywhere.
SECRETS = ("ΜΥΣΤΙΚΗ-ΣΗΜΕΙΩΣΗ", "εσωτερικό-αρχείο.txt", "ΛΟΓΟΣ-ΠΡΟΤΕΡΑΙΟΤΗΤΑΣ", "ΛΟΓΟΣ-ΚΑΤΗΓΟΡΙΑΣ",
           "ΚΡΥΦΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ", "ΚΡΥΦΕΣ-ΟΔΗΓΙΕΣ", "Αυτόματη κλιμάκωση",
           "Automatic escalation", "λεπτά εργασίας")
#: Text written to the school, or shared with it by the technician.
SHARED = ("ΔΗΜΟΣΙΑ-ΑΠΑΝΤΗΣΗ", "δημόσιο-αρχείο.png", "ΚΟΙΝΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ",
          "ΚΟΙΝΕΣ-ΟΔΗΓΙΕΣ", "ΑΠΑΝΤΗΣΗ-ΕΠΙΛΥΣΗΣ", "ΕΠΑΝΑΝΟΙΓΜΑ-ΣΧΟΛΕΙΟΥ")
SWEEP_AT = at(0) + timedelta(days=3)


class Story:
    """One ticket of school A through every kind of event the writers record (the kinds
    of tests/test_visibility_policy.RECORDED_KINDS), committed step by step so that each
    change writes its notifications."""

    def __init__(self, w):
        from helpdesk.incidents import services as incidents
        from helpdesk.inventory import services as inventory
        from helpdesk.inventory.models import EquipmentCategory
        from helpdesk.sla.sweep import sweep
        from helpdesk.tickets import services
        from helpdesk.tickets.attachments import Upload
        from tests.factories import category, make_staff, resolution, unit_at

        self.w = w
        w.l2b = make_staff(unit_at(w.school_a, 2), name="Τεχνικός Α2β")
        for unit in (unit_at(w.school_a, 1), unit_at(w.school_a, 2)):
            unit.email = ""  # reach the units through their people
        t = make_ticket(w.user_a, attachments=[Upload("δημόσιο-αρχείο.png", b"\x89PNG\r\n\x1a\n")])
        self.ticket, self.kinds = t, {"created"}
        steps = [
            ("reply", lambda n: services.reply(w.l1, t, "ΔΗΜΟΣΙΑ-ΑΠΑΝΤΗΣΗ: ελέγξτε το καλώδιο.",
                                               now=n)),  # claims it too
            ("note", lambda n: services.add_note(
                w.l1, t, "ΜΥΣΤΙΚΗ-ΣΗΜΕΙΩΣΗ: ο κωδικός είναι 1234", now=n,
                attachments=[Upload("εσωτερικό-αρχείο.txt", b"internal")])),
            ("priority", lambda n: services.change_priority(w.l1, t, 4, now=n,
                                                            reason="ΛΟΓΟΣ-ΠΡΟΤΕΡΑΙΟΤΗΤΑΣ")),
            ("category", lambda n: services.change_category(w.l1, t, category("HW-PC"), now=n,
                                                            reason="ΛΟΓΟΣ-ΚΑΤΗΓΟΡΙΑΣ")),
            ("await_school", lambda n: services.reply(w.l1, t, "Ποιος είναι ο σειριακός;",
                                                      now=n, await_school=True)),
            ("school_reply", lambda n: services.reply(w.user_a, t, "Ο σειριακός είναι X1.", now=n)),
            ("escalate", lambda n: services.escalate(w.l1, t, "ΚΡΥΦΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ", now=n)),
            ("claim", lambda n: services.claim(w.l2, t, now=n)),
            ("assign", lambda n: services.assign(w.admin, t, w.l2b, now=n)),
            ("return", lambda n: services.return_to_lower(w.l2, t, "ΚΡΥΦΕΣ-ΟΔΗΓΙΕΣ", now=n)),
            ("escalate", lambda n: services.escalate(w.l1, t, "ΚΟΙΝΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ", now=n,
                                                     tell_school=True)),
            ("return", lambda n: services.return_to_lower(w.l2, t, "ΚΟΙΝΕΣ-ΟΔΗΓΙΕΣ", now=n,
                                                          tell_school=True)),
        ]
        for minute, (kind, step) in enumerate(steps, start=1):
            step(at(minute))
            _db.session.commit()
            self.kinds.add(kind)
        printer = _db.session.scalar(select(EquipmentCategory).where(
            EquipmentCategory.code == "PRINTER"))
        item = inventory.add_item(w.l1, w.school_a, now=at(20), category_id=printer.id,
                                  manufacturer="HP", model="LaserJet P2055",
                                  serial_number="CNB7654321", registry_number="Π-99",
                                  location="SEPEHY")
        inventory.link_items(w.l1, t, [item], now=at(21))  # no ticket event: its own history
        _db.session.commit()
        assert sweep(now=SWEEP_AT).escalated == [t.id]  # automatic escalation, level 1 → 2
        _db.session.commit()
        self.kinds.add("sla")
        later = SWEEP_AT + timedelta(minutes=1)
        services.resolve(w.l2, t, resolution(), "ΑΠΑΝΤΗΣΗ-ΕΠΙΛΥΣΗΣ: άλλαξε το τροφοδοτικό.",
                         now=later)
        _db.session.commit()
        services.reopen(w.user_a, t, "ΕΠΑΝΑΝΟΙΓΜΑ-ΣΧΟΛΕΙΟΥ: ξαναχάλασε.",
                        now=later + timedelta(minutes=1))
        _db.session.commit()
        services.resolve(w.l2, t, resolution(), "Δεύτερη επίλυση, όλα καλά.",
                         now=later + timedelta(minutes=2))
        _db.session.commit()
        assert services.close_resolved(now=later + timedelta(days=30),
                                       older_than=timedelta(days=7)) == 1
        _db.session.commit()
        self.kinds |= {"resolve", "reopen", "close"}
        # a second request the school confirms and rates (a closed one cannot be confirmed)
        self.confirmed = make_ticket(w.user_a, subject="Επιβεβαιωμένο αίτημα")
        # … which was also part of a known outage, with one update posted to it
        outage = incidents.open_incident(
            w.l2, title="Πτώση δικτύου", body="Δεν υπάρχει σύνδεση.", scope_kind="directorates",
            scope_ids=[w.school_a.directorate_id], category=category("HW-PRN"),
            now=later + timedelta(minutes=2))
        incidents.bulk_link(w.l1, outage, [self.confirmed.id], now=later + timedelta(minutes=2))
        update = incidents.post_update(w.l2, outage, body="ΕΝΗΜΕΡΩΣΗ-ΒΛΑΒΗΣ", status="identified",
                                       now=later + timedelta(minutes=2))
        _db.session.commit()
        while incidents.post_batch(update.id, now=later + timedelta(minutes=2)):
            pass
        _db.session.commit()
        self.kinds.add("incident")
        services.resolve(w.l1, self.confirmed, resolution(), "Λύθηκε εξ αποστάσεως.",
                         now=later + timedelta(minutes=3))
        services.confirm(w.user_a, self.confirmed, now=later + timedelta(minutes=4), rating=5,
                         comment="ΣΧΟΛΙΟ-ΒΑΘΜΟΛΟΓΙΑΣ")
        _db.session.commit()
        self.kinds |= {"confirm", "rating"}
        self.level2_unit = unit_at(w.school_a, 2)
        self.level1_unit = unit_at(w.school_a, 1)


@pytest.fixture
def story(w):
    return Story(w)


def test_the_story_covers_every_recorded_kind(story):
    from tests.test_visibility_policy import RECORDED_KINDS

    stored = {k for (k,) in _db.session.execute(select(TicketEvent.kind).where(
        TicketEvent.ticket_id.in_([story.ticket.id, story.confirmed.id])).distinct())}
    assert stored == RECORDED_KINDS
    assert {"sla"} <= story.kinds


def _school_mail(story):
    from helpdesk.outbox.models import Notification

    school = {story.w.school_a.email, story.w.user_a.email}
    return list(_db.session.scalars(select(Notification).where(
        Notification.ticket_id == story.ticket.id, Notification.recipient_email.in_(school))
        .order_by(Notification.id)))


def logout(client):
    from tests.web import csrf_token

    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})


def _absent(text: str, secrets=SECRETS):
    leaked = [s for s in secrets if s in text]
    assert not leaked, leaked


def test_the_school_web_timeline_shows_moves_and_shared_text_only(client, story):
    from tests.web import login

    login(client, story.w.user_a)
    html = client.get(f"/tickets/{story.ticket.ref}").get_data(as_text=True)
    _absent(html)
    for text in SHARED:
        assert text in html, text
    # the moves are shown: where it went, both ways, and by whom (the system for the sweep)
    assert story.level2_unit.name_el in html and story.level1_unit.name_el in html
    assert html.count('class="entry event ev-escalate"') == 3
    assert html.count('class="entry event ev-return"') == 2
    assert "LaserJet P2055" in html  # the linked equipment
    assert "Σημείωση μόνο" not in html and "badge internal" not in html


@pytest.mark.parametrize("lang,line", [
    ("el", "Αυτόματη κλιμάκωση: έληξε ο χρόνος του επιπέδου 1"),
    ("en", "Automatic escalation: level 1 time ran out"),
])
def test_staff_read_everything_and_the_automatic_line_in_their_language(client, story, lang, line):
    from tests.web import login

    story.w.l2.locale = lang
    _db.session.commit()
    login(client, story.w.l2)
    html = client.get(f"/tickets/{story.ticket.ref}").get_data(as_text=True)
    for text in ("ΜΥΣΤΙΚΗ-ΣΗΜΕΙΩΣΗ", "εσωτερικό-αρχείο.txt", "ΛΟΓΟΣ-ΠΡΟΤΕΡΑΙΟΤΗΤΑΣ", "ΛΟΓΟΣ-ΚΑΤΗΓΟΡΙΑΣ",
                 "ΚΡΥΦΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ", "ΚΡΥΦΕΣ-ΟΔΗΓΙΕΣ", line, *SHARED):
        assert text in html, text
    other = "Automatic escalation" if lang == "el" else "Αυτόματη κλιμάκωση"
    assert other not in html  # the old bilingual text is not shown beside the code


def _api(client, user, path):
    from tests.test_api import bearer

    response = client.get(f"/api/v1/tickets/{path}", headers=bearer(user))
    assert response.status_code == 200, response.json
    return response


def test_the_school_api_never_returns_staff_text(client, story):
    ref = story.ticket.ref
    for path in (ref, f"{ref}/events", f"{ref}/messages"):
        _absent(_api(client, story.w.user_a, path).get_data(as_text=True))
    events = _api(client, story.w.user_a, f"{ref}/events").json["items"]
    kinds = {e["kind"] for e in events}
    assert "note" not in kinds and {"escalate", "return", "priority", "category", "close"} <= kinds
    moves = [e for e in events if e["kind"] in ("escalate", "return") and e["field"] == "unit"]
    assert [e["new_value"] for e in moves] == [str(story.level2_unit.id), str(story.level1_unit.id)] * 2 \
        + [str(story.level2_unit.id)]
    reasons = {e["reason"] for e in events if e["kind"] in ("escalate", "return")} - {None}
    assert reasons == {"ΚΟΙΝΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ", "ΚΟΙΝΕΣ-ΟΔΗΓΙΕΣ"}
    assert all(e["reason_code"] is None for e in events)


def test_staff_api_returns_reasons_and_codes_in_the_callers_language(client, story):
    from tests.test_api import bearer

    response = client.get(f"/api/v1/tickets/{story.ticket.ref}/events",
                          headers={**bearer(story.w.l2), "Accept-Language": "en"})
    events = response.json["items"]
    swept = [e for e in events if e["reason_code"] == "sla.level_time_out"]
    assert swept and swept[0]["reason"].startswith("Automatic escalation: level 1 time ran out")
    assert any(e["reason"] == "ΚΡΥΦΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ" and not e["shared_with_school"]
               for e in events)
    assert any(e["kind"] == "note" for e in events)
    messages = _api(client, story.w.l2, f"{story.ticket.ref}/messages").get_data(as_text=True)
    assert "ΜΥΣΤΙΚΗ-ΣΗΜΕΙΩΣΗ" in messages


def test_the_schools_mail_tells_it_where_its_request_went_and_nothing_internal(story):
    mails = _school_mail(story)
    for n in mails:
        _absent(n.subject + n.body + (n.body_html or ""))
    forwarded = [n for n in mails if n.kind == "forwarded"
                 and n.recipient_email == story.w.school_a.email]
    assert len(forwarded) == 5  # 3 escalations (one by the sweep) and 2 returns
    assert len([n for n in mails if n.kind == "forwarded"]) == 10  # and to the filer
    assert all(story.ticket.ref in n.subject for n in forwarded)
    assert story.level2_unit.name_el in forwarded[0].body
    assert "διαβιβάστηκε" in forwarded[0].body
    shared = [n for n in forwarded if "ΚΟΙΝ" in n.body]
    assert len(shared) == 2 and all("ΚΟΙΝ" in (n.body_html or "") for n in shared)
    kinds = [n.kind for n in mails]
    assert {"ack", "reply", "waiting", "resolved", "closed"} <= set(kinds)


def test_staff_mail_carries_the_reasons_in_the_recipients_language(story):
    from helpdesk.outbox.models import Notification

    rows = list(_db.session.scalars(select(Notification).where(
        Notification.ticket_id == story.ticket.id, Notification.kind == "escalated")))
    bodies = " ".join(n.body for n in rows)
    assert "ΚΡΥΦΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ" in bodies
    assert "Αυτόματη κλιμάκωση: έληξε ο χρόνος του επιπέδου 1" in bodies


def test_an_english_school_reads_the_forwarded_mail_in_english(w):
    from helpdesk.outbox.models import Notification
    from helpdesk.tickets import services

    w.user_a.locale = "en"
    w.school_a.email = w.user_a.email  # the filer's account is the official address
    t = make_ticket(w.user_a)
    _db.session.commit()
    services.escalate(w.l1, t, "ΚΡΥΦΟΣ-ΛΟΓΟΣ-ΚΛΙΜΑΚΩΣΗΣ", now=at(1))
    _db.session.commit()
    (mail,) = _db.session.scalars(select(Notification).where(
        Notification.ticket_id == t.id, Notification.kind == "forwarded"))
    assert mail.locale == "en" and "was forwarded to" in mail.body
    _absent(mail.body + mail.body_html)


# --- the forms -------------------------------------------------------------------------------

def test_the_forms_say_who_reads_each_text(client, w):
    from tests.web import login

    t = make_ticket(w.user_a)
    _db.session.commit()
    login(client, w.l1)
    html = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "Το αιτιολογικό το βλέπουν μόνο οι τεχνικοί. Επιλέξτε «Να το δει και το σχολείο» " \
           "για να το δει και το σχολείο." in html
    assert 'name="escalate-tell_school"' in html
    assert "Την απάντηση τη διαβάζουν το σχολείο και οι τεχνικοί" in html
    assert "Το σχολείο δεν τις βλέπει ποτέ." in html  # the note form
    logout(client)
    login(client, w.user_a)
    school = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "Την απάντησή σας τη διαβάζουν οι τεχνικοί" in school
    assert "tell_school" not in school


@pytest.mark.parametrize("tell", [False, True])
def test_the_web_escalation_form_tells_the_school_only_when_ticked(client, w, tell):
    from tests.web import act, login

    t = make_ticket(w.user_a)
    _db.session.commit()
    login(client, w.l1)
    fields = {"reason": "ΛΟΓΟΣ-ΦΟΡΜΑΣ για το ΠΣΔ"}
    if tell:
        fields["tell_school"] = "y"
    assert act(client, t.ref, "escalate", **fields).status_code == 302
    staff = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "ΛΟΓΟΣ-ΦΟΡΜΑΣ" in staff
    assert ("δεν το βλέπει το σχολείο" in staff) == (not tell)  # staff are told who reads it
    logout(client)
    login(client, w.user_a)
    html = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert ("ΛΟΓΟΣ-ΦΟΡΜΑΣ" in html) == tell
    assert "δεν το βλέπει το σχολείο" not in html
    assert 'class="entry event ev-escalate"' in html


@pytest.mark.parametrize("tell", [False, True])
def test_the_api_escalation_takes_tell_school(client, w, tell):
    from tests.test_api import bearer

    t = make_ticket(w.user_a)
    _db.session.commit()
    body = {"reason": "ΛΟΓΟΣ-API για το ΠΣΔ", **({"tell_school": True} if tell else {})}
    up = client.post(f"/api/v1/tickets/{t.ref}/escalate", headers=bearer(w.l1), json=body)
    assert up.status_code == 200, up.json
    events = client.get(f"/api/v1/tickets/{t.ref}/events", headers=bearer(w.user_a)).json["items"]
    assert any(e["kind"] == "escalate" for e in events)
    assert any(e["reason"] == "ΛΟΓΟΣ-API για το ΠΣΔ" for e in events) == tell
