"""Ticket services on a real database (SQLite, and PostgreSQL with TEST_DATABASE_URL)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.tickets import services
from helpdesk.tickets.attachments import Upload
from helpdesk.tickets.models import Attachment, Message, Ticket, TicketEvent, TicketStay
from helpdesk.tickets.states import Status
from tests.factories import World, at, category, make_ticket, resolution, unit_at


@pytest.fixture
def w(db):
    return World()


def events(ticket, **where):
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    return [e for e in _db.session.scalars(stmt) if all(getattr(e, k) == v for k, v in where.items())]


def test_filing_lands_at_level_one_of_the_schools_directorate(w):
    t = make_ticket(w.user_a)
    assert t.status == Status.NEW and t.level == 1
    assert t.unit_id == unit_at(w.school_a, 1).id
    assert t.ref == f"ΑΡ-2026-{t.id:06d}"
    assert "εκτυπωτησ" in t.search_text
    assert events(t, kind="created")[0].actor_id == w.user_a.id
    stays = _db.session.scalars(select(TicketStay).where(TicketStay.ticket_id == t.id)).all()
    assert [(s.level, s.unit_id, s.left_at) for s in stays] == [(1, t.unit_id, None)]


def test_a_category_that_starts_at_level_two_lands_at_the_partner(w):
    t = make_ticket(w.user_a, code="PSD-APP")
    assert (t.level, t.unit_id) == (2, unit_at(w.school_a, 2).id)


def test_a_school_cannot_file_for_another_school(w):
    with pytest.raises(PermissionDenied):
        services.open_ticket(w.user_a, school=w.school_b, category=category(), subject="abc",
                             description="περιγραφή", now=at(0))
    # staff file only for the schools of their area (tests/test_on_behalf.py)
    with pytest.raises(PermissionDenied):
        services.open_ticket(w.l1_far, school=w.school_a, category=category(), subject="abc",
                             description="περιγραφή", now=at(0))


@pytest.mark.parametrize("field,kwargs", [
    ("subject", {"subject": "  "}),
    ("description", {"description": ""}),
    ("priority", {"priority": 9}),
])
def test_bad_input_is_refused_and_changes_nothing(w, field, kwargs):
    before = _db.session.scalar(select(func.count(Ticket.id)))
    with pytest.raises(ValidationFailed) as exc:
        make_ticket(w.user_a, **kwargs)
    assert exc.value.field == field
    _db.session.rollback()
    assert _db.session.scalar(select(func.count(Ticket.id))) == before


def test_full_path_through_three_levels(w):
    t = make_ticket(w.user_a)
    services.claim(w.l1, t, now=at(5))
    assert (t.status, t.assignee_id) == (Status.OPEN, w.l1.id)
    services.reply(w.l1, t, "Δοκιμάστε επανεκκίνηση.", now=at(6), await_school=True)
    assert t.status == Status.WAITING and t.first_response_at == at(6)
    services.reply(w.user_a, t, "Δεν έγινε τίποτα.", now=at(30))
    assert t.status == Status.OPEN
    services.escalate(w.l1, t, "Χρειάζεται το ΑΠΘ/ΠΣΔ.", now=at(40))
    assert (t.level, t.unit_id, t.status, t.assignee_id) == (2, unit_at(w.school_a, 2).id, Status.NEW, None)
    services.escalate(w.l2, t, "Θέμα κεντρικής υποδομής.", now=at(50))
    assert (t.level, t.unit_id) == (3, unit_at(w.school_a, 3).id)
    services.resolve(w.l3, t, resolution("REMOTE"), "Διορθώθηκε κεντρικά.", now=at(60))
    assert t.status == Status.RESOLVED and t.resolved_at == at(60)
    kinds = [e.kind for e in events(t)]
    assert kinds.count("escalate") == 6  # status, assignee, level, unit; then level, unit
    escalation = events(t, kind="escalate", field="level")
    assert [(e.old_value, e.new_value, e.actor_id) for e in escalation] == [
        ("1", "2", w.l1.id), ("2", "3", w.l2.id)]
    assert escalation[0].reason == "Χρειάζεται το ΑΠΘ/ΠΣΔ."
    stays = _db.session.scalars(select(TicketStay).where(TicketStay.ticket_id == t.id)
                                .order_by(TicketStay.id)).all()
    assert [(s.level, s.left_how) for s in stays] == [(1, "escalated"), (2, "escalated"), (3, None)]


def test_escalation_needs_a_reason_and_stops_at_the_top(w):
    t = make_ticket(w.user_a)
    with pytest.raises(ValidationFailed):
        services.escalate(w.l1, t, "", now=at(1))
    services.escalate(w.l1, t, "πάνω πάνω", now=at(2))
    services.escalate(w.l2, t, "πάνω πάνω", now=at(3))
    with pytest.raises(Conflict):
        services.escalate(w.l3, t, "πάνω πάνω", now=at(4))


def test_only_the_current_unit_works_the_ticket(w):
    t = make_ticket(w.user_a)
    with pytest.raises(NotFound):
        services.escalate(w.l2, t, "δεν είναι δικό μου", now=at(1))  # never there: unseen
    services.escalate(w.l1, t, "στο επίπεδο 2", now=at(2))
    with pytest.raises(PermissionDenied):
        services.claim(w.l1, t, now=at(3))  # level 1 still sees it, may not work it
    with pytest.raises(NotFound):
        services.claim(w.l1_far, t, now=at(3))  # another region never sees it


def test_return_to_a_lower_level_with_instructions(w):
    t = make_ticket(w.user_a)
    services.escalate(w.l1, t, "στο επίπεδο 2", now=at(1))
    services.return_to_lower(w.l2, t, "Αλλάξτε το καλώδιο επί τόπου.", now=at(2))
    assert (t.level, t.status) == (1, Status.NEW)
    assert events(t, kind="return", field="level")[0].reason == "Αλλάξτε το καλώδιο επί τόπου."
    with pytest.raises(Conflict):
        services.return_to_lower(w.l1, t, "κάτω από το 1;", now=at(3))


def test_assign_within_the_unit_only(w):
    t = make_ticket(w.user_a)
    services.assign(w.manager, t, w.l1_peer, now=at(1))
    assert t.assignee_id == w.l1_peer.id and t.status == Status.OPEN
    with pytest.raises(ValidationFailed):
        services.assign(w.manager, t, w.l2, now=at(2))


def test_internal_notes_are_staff_only(w):
    t = make_ticket(w.user_a)
    note = services.add_note(w.l1, t, "Ο διευθυντής δεν απαντά στο τηλέφωνο.", now=at(1))
    assert note.is_internal
    with pytest.raises(PermissionDenied):
        services.add_note(w.user_a, t, "σημείωση σχολείου", now=at(2))


def test_illegal_transition_is_a_clear_conflict(w):
    t = make_ticket(w.user_a)
    services.resolve(w.l1, t, resolution(), "Λύθηκε εξ αποστάσεως.", now=at(1))
    with pytest.raises(PermissionDenied):
        services.claim(w.l1, t, now=at(2))
    services.reopen(w.user_a, t, "Ξανά το ίδιο πρόβλημα.", now=at(3))
    assert t.status == Status.OPEN and t.resolved_at is None
    with pytest.raises(Conflict) as exc:
        services._set_status(t, services.Action.CLOSE, None, at(4))
    from helpdesk.core.display import EVENT_LABELS, STATUS_LABELS

    assert str(EVENT_LABELS["close"]) in str(exc.value)  # named as the user sees it
    assert str(STATUS_LABELS["open"]) in str(exc.value)


def test_school_reopens_only_within_the_window(w, app):
    t = make_ticket(w.user_a)
    services.resolve(w.l1, t, resolution(), "Λύθηκε εξ αποστάσεως.", now=at(0))
    late = at(0) + timedelta(days=app.config["REOPEN_WINDOW_DAYS"], minutes=1)
    with pytest.raises(PermissionDenied):
        services.reopen(w.user_a, t, "Πάλι χάλασε.", now=late)
    services.reopen(w.l1, t, "Ο τεχνικός το ξανανοίγει.", now=late)
    assert t.status == Status.OPEN


def test_auto_close_closes_old_resolutions_once(w):
    old, recent = make_ticket(w.user_a), make_ticket(w.user_a, minutes=1)
    services.resolve(w.l1, old, resolution(), "Λύθηκε εξ αποστάσεως.", now=at(0))
    services.resolve(w.l1, recent, resolution(), "Λύθηκε εξ αποστάσεως.", now=at(0) + timedelta(days=9))
    now = at(0) + timedelta(days=10, minutes=1)
    assert services.close_resolved(now=now, older_than=timedelta(days=10)) == 1
    assert services.close_resolved(now=now, older_than=timedelta(days=10)) == 0
    assert old.status == Status.CLOSED and old.closed_at == now
    assert recent.status == Status.RESOLVED
    assert events(old, kind="close")[0].actor_id is None


def test_attachments_are_checked_and_stored_under_generated_names(w, app):
    t = make_ticket(w.user_a, attachments=[Upload("../../etc/σφάλμα.png", b"\x89PNG\r\n\x1a\n1234")])
    a = _db.session.scalar(select(Attachment).where(Attachment.ticket_id == t.id))
    assert a.filename == "σφάλμα.png" and a.stored_name.isalnum() and len(a.stored_name) == 32
    for bad in ([Upload("virus.exe", b"MZ...")], [Upload("x.png", b"MZ...")],
                [Upload("page.txt", b"<html><script>alert(1)</script>")],
                [Upload(f"f{i}.txt", b"x") for i in range(6)],
                [Upload("big.pdf", b"%PDF" + b"0" * app.config["ATTACHMENT_MAX_BYTES"])]):
        with pytest.raises(ValidationFailed):
            make_ticket(w.user_a, attachments=bad)


def test_reply_by_staff_claims_an_unassigned_ticket(w):
    t = make_ticket(w.user_a)
    services.reply(w.l1, t, "Το κοιτάμε.", now=at(1))
    assert t.assignee_id == w.l1.id and t.status == Status.OPEN
    assert _db.session.scalar(select(func.count(Message.id)).where(Message.ticket_id == t.id)) == 1
