"""Notifications are written in the transaction of the ticket change (the outbox)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import UnitMembership
from helpdesk.extensions import db as _db
from helpdesk.mail.ids import verify_message_id
from helpdesk.notify import services as notify
from helpdesk.outbox.models import Notification
from helpdesk.tickets import services
from tests.factories import World, at, make_ticket, resolution, unit_at


@pytest.fixture
def w(db):
    world = World()
    for unit in {unit_at(world.school_a, 1), unit_at(world.school_a, 2)}:
        unit.email = ""  # reach the unit through its managers / members in these tests
    return world


def rows(ticket=None):
    stmt = select(Notification).order_by(Notification.id)
    if ticket is not None:
        stmt = stmt.where(Notification.ticket_id == ticket.id)
    return list(_db.session.scalars(stmt))


def to(ticket, email):
    return [n for n in rows(ticket) if n.recipient_email == email]


def test_filing_queues_the_acknowledgement_and_the_units_notice_in_the_same_commit(w):
    t = make_ticket(w.user_a)
    assert rows(t) == []  # nothing before the commit
    _db.session.commit()
    ack = to(t, w.school_a.email)
    assert [n.kind for n in ack] == ["ack"]
    assert t.ref in ack[0].subject and t.ref in ack[0].body and t.ref in ack[0].body_html
    assert ack[0].status == "pending" and ack[0].is_automatic
    # the unit has no address of its own: its manager hears of it
    assert [n.kind for n in to(t, w.manager.email)] == ["new_ticket"]
    assert not to(t, w.l1.email)  # a plain member is not mailed when there is a manager


def test_managers_who_read_the_same_words_share_one_rendering(w, monkeypatch):
    _db.session.scalar(select(UnitMembership).where(
        UnitMembership.user_id == w.l1.id)).is_manager = True
    w.l1.locale = w.manager.locale
    kinds = []
    real = notify.render
    monkeypatch.setattr(notify, "render",
                        lambda kind, locale, **c: kinds.append(kind) or real(kind, locale, **c))
    t = make_ticket(w.user_a)
    _db.session.commit()
    (first,), (second,) = to(t, w.manager.email), to(t, w.l1.email)
    assert first.kind == second.kind == "new_ticket"
    assert (first.subject, first.body, first.body_html) == (
        second.subject, second.body, second.body_html)
    assert first.message_id != second.message_id  # each its own, signed for its reader
    assert sorted(kinds) == ["ack", "new_ticket"]  # one rendering each


def test_a_unit_address_is_used_when_the_unit_has_one(w):
    unit_at(w.school_a, 1).email = "plinet@thess.sch.gr"
    t = make_ticket(w.user_a)
    _db.session.commit()
    assert [n.kind for n in to(t, "plinet@thess.sch.gr")] == ["new_ticket"]
    assert not to(t, w.manager.email)


def test_a_rolled_back_change_leaves_no_notification(w):
    t_id = make_ticket(w.user_a).id
    _db.session.rollback()
    assert not _db.session.scalars(select(Notification).where(Notification.ticket_id == t_id)).all()


def test_every_message_id_verifies_and_names_the_ticket_and_user(w, app):
    t = make_ticket(w.user_a)
    services.assign(w.manager, t, w.l1, now=at(1))
    _db.session.commit()
    (assigned,) = to(t, w.l1.email)
    ref = verify_message_id(app.config["SECRET_KEY"], assigned.message_id)
    assert (ref.ticket_id, ref.user_id) == (t.id, w.l1.id)
    assert assigned.recipient_user_id == w.l1.id and assigned.kind == "assigned"


def test_internal_notes_never_reach_the_school(w):
    t = make_ticket(w.user_a)
    _db.session.commit()
    before = len(to(t, w.school_a.email))
    services.add_note(w.l1, t, "ΜΥΣΤΙΚΟ: ο κωδικός του router είναι 1234", now=at(1))
    _db.session.commit()
    assert len(to(t, w.school_a.email)) == before
    services.reply(w.l1, t, "Δοκιμάστε να αλλάξετε το τόνερ.", now=at(2))
    _db.session.commit()
    mails = to(t, w.school_a.email)
    assert [n.kind for n in mails] == ["ack", "reply"]
    for n in mails:
        assert "ΜΥΣΤΙΚΟ" not in n.body + (n.body_html or "") + n.subject
    assert "τόνερ" in mails[-1].body


def test_the_actor_is_not_told_of_their_own_reply_and_the_school_hears_once(w):
    t = make_ticket(w.user_a)
    _db.session.commit()
    services.reply(w.l1, t, "Χρειαζόμαστε τον σειριακό αριθμό.", now=at(1), await_school=True)
    _db.session.commit()
    assert not to(t, w.l1.email)
    assert [n.kind for n in to(t, w.school_a.email)] == ["ack", "waiting"]
    services.reply(w.user_a, t, "Ο σειριακός είναι ABC123.", now=at(2))
    _db.session.commit()
    # the school's answer goes to the technician who has the ticket, not back to the school
    assert [n.kind for n in to(t, w.l1.email)] == ["school_reply"]
    assert "ABC123" in to(t, w.l1.email)[0].body
    assert [n.kind for n in to(t, w.school_a.email)] == ["ack", "waiting"]


def test_escalation_and_resolution(w):
    t = make_ticket(w.user_a)
    services.claim(w.l1, t, now=at(1))
    _db.session.commit()
    services.escalate(w.l1, t, "Βλάβη στον εξυπηρετητή του ΠΣΔ", now=at(2))
    _db.session.commit()
    escalated = [n for n in rows(t) if n.kind == "escalated"]
    assert escalated and {n.recipient_email for n in escalated} == {w.l2.email}
    assert "Βλάβη στον εξυπηρετητή" in escalated[0].body
    assert not [n for n in to(t, w.school_a.email) if n.kind == "escalated"]
    services.claim(w.l2, t, now=at(3))
    services.resolve(w.l2, t, resolution(), "Αντικαταστάθηκε το τροφοδοτικό.", now=at(4))
    _db.session.commit()
    resolved = to(t, w.school_a.email)[-1]
    assert resolved.kind == "resolved" and "τροφοδοτικό" in resolved.body


def test_mail_is_written_in_the_recipients_language(w):
    w.l1.locale = "en"
    t = make_ticket(w.user_a, subject="Δεν ανάβει ο προβολέας")
    services.assign(w.manager, t, w.l1, now=at(1))
    _db.session.commit()
    (en,) = to(t, w.l1.email)
    assert en.locale == "en" and "assigned request" in en.body and "Status: In progress" in en.body and "/tickets/%CE" in en.body
    (el,) = to(t, w.school_a.email)
    assert el.locale == "el" and "Λάβαμε το αίτημά σας" in el.body and 'lang="el"' in el.body_html


def test_html_is_escaped_and_subjects_are_one_line(w):
    t = make_ticket(w.user_a, subject="<script>alert(1)</script> χαλασμένο")
    _db.session.commit()
    services.reply(w.l1, t, "<b>έντονα</b> & <img src=x onerror=alert(1)>", now=at(1))
    _db.session.commit()
    reply = to(t, w.school_a.email)[-1]
    assert "<script>" not in reply.body_html and "&lt;script&gt;" in reply.body_html
    assert "<img" not in reply.body_html and "&lt;img" in reply.body_html
    t.subject = "σπασμένο\r\nBcc: victim@example.com"  # as if it came in by mail
    services.reply(w.l1, t, "Δεύτερη απάντηση.", now=at(2))
    _db.session.commit()
    last = to(t, w.school_a.email)[-1]
    assert "\n" not in last.subject and "\r" not in last.subject


def test_paused_writes_nothing(w):
    with notify.paused():
        t = make_ticket(w.user_a)
        _db.session.commit()
    assert rows(t) == []


def test_a_duplicate_commit_does_not_duplicate(w):
    t = make_ticket(w.user_a)
    _db.session.commit()
    n = len(rows(t))
    _db.session.commit()
    assert len(rows(t)) == n


def test_system_close_tells_the_school(w):
    from datetime import timedelta

    t = make_ticket(w.user_a)
    services.claim(w.l1, t, now=at(1))
    services.resolve(w.l1, t, resolution(), "Λύθηκε από απόσταση.", now=at(2))
    _db.session.commit()
    services.close_resolved(now=at(60 * 24 * 30), older_than=timedelta(days=10))
    _db.session.commit()
    assert to(t, w.school_a.email)[-1].kind == "closed"


def test_the_escalation_notice_names_the_unit_the_ticket_went_to(w):
    t = make_ticket(w.user_a)
    _db.session.commit()
    services.escalate(w.l1, t, "Βλάβη στον εξυπηρετητή του ΠΣΔ", now=at(2))
    _db.session.commit()
    (note,) = [n for n in rows(t) if n.kind == "escalated"]
    assert f"κλιμακώθηκε στη μονάδα {unit_at(w.school_a, 2).name_el}" in note.body


def test_one_insert_queues_a_change_and_skips_keys_already_queued(w, query_counter):
    from helpdesk.outbox.services import queue_notifications

    def row(key):
        return {"kind": "ack", "recipient_email": f"{key}@sch.gr", "subject": "Θέμα",
                "body": "κείμενο", "dedupe_key": key, "now": at(0), "locale": "el"}

    first = queue_notifications([row("k1"), row("k2")])
    assert len(first) == 2
    with query_counter() as q:
        again = queue_notifications([row("k2"), row("k3"), row("k3")])
    assert q.count == 1 and len(again) == 1
    keys = [n.dedupe_key for n in rows() if n.dedupe_key.startswith("k")]
    assert sorted(keys) == ["k1", "k2", "k3"]
