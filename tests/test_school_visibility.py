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
