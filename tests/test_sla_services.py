"""SLA services on the database: stored due times, the escalation sweep, the outbox."""
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from helpdesk.extensions import db as _db
from helpdesk.outbox.models import Notification
from helpdesk.sla.models import Closure, SlaPolicy
from helpdesk.sla.services import seed_default_policies
from helpdesk.sla.sweep import sweep
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket, TicketEvent
from tests.conftest import test_database_url
from tests.factories import World, at, make_ticket, unit_at
from tests.web import login


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def w(db):
    return World()


def notes(ticket=None, kind=None):
    stmt = select(Notification).order_by(Notification.id)
    if ticket is not None:
        stmt = stmt.where(Notification.ticket_id == ticket.id)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return _db.session.scalars(stmt).all()


def test_filing_stores_due_times_in_working_time(w):
    t = make_ticket(w.user_a)  # Monday 2 March 2026, 10:00 Athens; normal priority
    assert t.first_response_due_at == utc(2026, 3, 2, 12)   # 4 working hours
    assert t.level_due_at == utc(2026, 3, 4, 8)             # 2 working days
    assert t.resolution_due_at == utc(2026, 3, 9, 8)        # 5 working days
    assert t.sla_state == "ok"


def test_changes_recompute_the_stored_sla(w):
    t = make_ticket(w.user_a)
    services.reply(w.l1, t, "Δοκιμάστε ξανά.", now=at(60), await_school=True)
    assert t.sla_state == "paused" and t.first_response_minutes == 60
    assert t.first_response_breached is False
    services.reply(w.user_a, t, "Τίποτα.", now=at(60 * 24))  # Tuesday 10:00 Athens
    assert t.sla_state == "ok"
    assert t.level_due_at == utc(2026, 3, 5, 7)  # a working day of pause credited
    services.change_priority(w.l1, t, 4, now=at(60 * 24 + 1))
    # urgent: 3 working hours at level 1, of which 1 h 01 m are spent
    assert t.level_due_at == utc(2026, 3, 3, 10) and t.sla_state == "ok"
    assert t.resolution_due_at == utc(2026, 3, 4, 7)  # 1 working day + the paused day


def test_a_closure_moves_the_due_time(w):
    _db.session.add(Closure(day=datetime(2026, 3, 3).date(), description="Τοπική εορτή"))
    t = make_ticket(w.user_a)
    assert t.level_due_at == utc(2026, 3, 5, 8)


def test_resolving_stores_the_minutes_and_clears_the_level_due_time(w):
    from tests.factories import resolution

    t = make_ticket(w.user_a)
    services.resolve(w.l1, t, resolution(), "Λύθηκε εξ αποστάσεως.", now=at(90))
    assert (t.first_response_minutes, t.resolution_minutes) == (90, 90)
    assert t.level_due_at is None and t.sla_state == "ok"
    assert t.first_response_breached is False and t.resolution_breached is False


def test_seeding_default_policies_is_idempotent(db):
    first = seed_default_policies()
    assert seed_default_policies() == 0
    rows = _db.session.scalars(select(SlaPolicy).where(SlaPolicy.category_id.is_(None))).all()
    assert first in (0, 4) and sorted(p.priority for p in rows) == [1, 2, 3, 4]


def test_the_sweep_escalates_exactly_the_tickets_past_their_level_time_once(w):
    late = make_ticket(w.user_a)                       # level due Wed 08:00 UTC
    on_time = make_ticket(w.user_b, minutes=60 * 24)   # level due Thu 08:00 UTC
    waiting = make_ticket(w.user_a)
    services.reply(w.l1, waiting, "Περιμένουμε στοιχεία.", now=at(1), await_school=True)
    now = utc(2026, 3, 4, 8, 30)
    result = sweep(now=now)
    assert result.escalated == [late.id]
    assert (late.level, late.unit_id) == (2, unit_at(w.school_a, 2).id)
    assert (on_time.level, waiting.level) == (1, 1)
    level_events = _db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == late.id, TicketEvent.kind == "escalate",
        TicketEvent.field == "level")).all()
    assert len(level_events) == 1 and level_events[0].actor_id is None
    assert "επιπέδου 1" in level_events[0].reason
    assert late.level_due_at > now and late.sla_state != "breached" or late.level_due_at > now
    again = sweep(now=now)
    assert again.escalated == [] and late.level == 2
    assert sweep(now=now + timedelta(minutes=5)).escalated == []


def test_a_ticket_escalated_by_the_sweep_gets_a_fresh_clock_at_each_level(w):
    t = make_ticket(w.user_a)
    assert sweep(now=utc(2026, 3, 4, 8, 30)).escalated == [t.id]
    assert t.level_due_at == utc(2026, 3, 9, 8, 30)  # 3 working days from Wed 10:30 Athens
    assert sweep(now=utc(2026, 3, 9, 8, 31)).escalated == [t.id]
    assert t.level == 3
    # at the top there is nowhere to go: it only warns, and only once
    result = sweep(now=utc(2026, 3, 20, 8))
    assert result.escalated == [] and result.warned == [t.id] and t.level == 3
    before = len(notes(t, "sla_breach"))
    sweep(now=utc(2026, 3, 20, 9))
    assert len(notes(t, "sla_breach")) == before


def test_a_warn_policy_only_records_one_notification_per_recipient(w):
    _db.session.add(SlaPolicy(priority=2, category_id=None, first_response_minutes=240,
                              resolution_minutes=2100, level1_minutes=60, level2_minutes=60,
                              level3_minutes=60, warn_ratio=0.75, action_on_level_breach="warn"))
    t = make_ticket(w.user_a)
    services.claim(w.l1, t, now=at(1))
    for minutes in (70, 75, 200):
        result = sweep(now=at(minutes))
        assert result.escalated == []
    assert t.level == 1
    breaches = notes(t, "sla_breach")
    assert sorted(n.recipient_email for n in breaches) == sorted([w.l1.email, w.manager.email])
    assert all(n.status == "pending" for n in breaches)


def test_the_sweep_marks_warnings_once(w):
    t = make_ticket(w.user_a)
    services.reply(w.l1, t, "Το εξετάζουμε.", now=at(1))
    now = utc(2026, 3, 3, 13)  # 5 h + 7 h of 14 at level 1: past 75%
    assert t.sla_state == "ok"
    sweep(now=now)
    assert t.sla_state == "warning" and t.level == 1
    assert sorted(n.recipient_email for n in notes(t, "sla_warning")) == sorted(
        [w.manager.email, w.l1.email])
    sweep(now=now + timedelta(minutes=5))
    assert len(notes(t, "sla_warning")) == 2


def test_the_sweep_job_commits_and_is_safe_to_repeat(w):
    from workers.jobs import sla_sweep

    t = make_ticket(w.user_a)
    _db.session.commit()
    first = sla_sweep()  # real time: long after March 2026
    assert first["escalated"] >= 1
    _db.session.expire_all()
    assert _db.session.get(Ticket, t.id).level == 2
    assert sla_sweep()["escalated"] == 0 or _db.session.get(Ticket, t.id).level == 3


def test_the_breaching_queue_and_the_time_left_column(client, w):
    t = make_ticket(w.user_a)
    quiet = make_ticket(w.user_b, minutes=60 * 24)
    services.reply(w.l1, quiet, "Το εξετάζουμε.", now=at(60 * 24 + 1))
    assert sweep(now=utc(2026, 3, 4, 8, 5)).escalated == [t.id]  # fresh clock at level 2
    late = make_ticket(w.user_b, minutes=20)
    late.sla_state = "breached"
    _db.session.commit()
    login(client, w.l1)
    html = client.get("/tickets?queue=open&lang=en").get_data(as_text=True)
    assert "sla-breached" in html and "Time left" in html
    html = client.get("/tickets?queue=open&sort=due&order=asc").get_data(as_text=True)
    assert html.index(late.ref) < html.index(quiet.ref)  # late is due first
    assert quiet.sla_state == "ok"


def test_the_breaching_queue_lists_only_deadlines_ahead(client, w):
    """About to breach: now < level deadline <= now + the window (or the sweep's warning);
    a ticket whose deadline passed 294 days ago is not "about to" breach."""
    from helpdesk.core.types import utcnow

    now = utcnow()
    soon, warned, far, past, paused = (make_ticket(w.user_a, minutes=i) for i in range(5))
    soon.level_due_at, soon.sla_state = now + timedelta(hours=3), "ok"
    warned.level_due_at, warned.sla_state = now + timedelta(days=3), "warning"
    far.level_due_at, far.sla_state = now + timedelta(days=10), "ok"
    past.level_due_at, past.sla_state = now - timedelta(days=294), "breached"
    paused.level_due_at, paused.sla_state = now + timedelta(hours=1), "paused"
    _db.session.commit()
    login(client, w.l1)
    html = client.get("/tickets?queue=breaching").get_data(as_text=True)
    assert soon.ref in html and warned.ref in html
    assert far.ref not in html and past.ref not in html and paused.ref not in html
    assert re.search(r'queue=breaching"[^>]*>\s*[^<]*<span class="count">2<', html)


@pytest.mark.skipif(not test_database_url(), reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_two_concurrent_sweeps_escalate_once(app):
    """Two workers, two connections, committed data: every ticket escalates exactly once."""
    from helpdesk.sla.sweep import SweepResult

    with app.app_context():
        w = World()
        tickets = [make_ticket(w.user_a if i % 2 else w.user_b, minutes=i) for i in range(30)]
        ids = [t.id for t in tickets]
        user_ids = [u.id for u in (w.user_a, w.user_b, w.user_far, w.l1, w.l1_peer, w.l2, w.l3,
                                    w.l1_far, w.l2_far, w.manager, w.admin)]
        school_ids = [w.school_a.id, w.school_b.id, w.school_far.id]
        _db.session.commit()
    results: list[SweepResult] = []
    barrier = threading.Barrier(2)

    def run():
        with app.app_context():
            barrier.wait()
            results.append(sweep(now=utc(2026, 3, 4, 9), batch_size=7,
                                 on_batch=_db.session.commit))
            _db.session.commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    try:
        escalated = sorted(i for r in results for i in r.escalated)
        assert len(results) == 2 and escalated == sorted(ids)
        with app.app_context():
            count = _db.session.scalar(select(func.count()).select_from(TicketEvent).where(
                TicketEvent.ticket_id.in_(ids), TicketEvent.kind == "escalate",
                TicketEvent.field == "level"))
            assert count == len(ids)
            assert set(_db.session.scalars(select(Ticket.level).where(Ticket.id.in_(ids)))) == {2}
    finally:
        with app.app_context():
            _cleanup(ids, user_ids, school_ids)


def _cleanup(ticket_ids, user_ids, school_ids):
    from helpdesk.accounts.models import UnitMembership, User
    from helpdesk.org.models import School
    from helpdesk.tickets.models import Message, TicketStay

    for model in (Notification, TicketEvent, TicketStay, Message):
        _db.session.execute(delete(model).where(model.ticket_id.in_(ticket_ids)))
    _db.session.execute(delete(Ticket).where(Ticket.id.in_(ticket_ids)))
    _db.session.execute(delete(UnitMembership).where(UnitMembership.user_id.in_(user_ids)))
    _db.session.execute(delete(User).where(User.id.in_(user_ids)))
    _db.session.execute(delete(School).where(School.id.in_(school_ids)))
    _db.session.commit()


# --- the per-process copy of the SLA tables ----------------------------------------------------

def test_a_policy_changed_by_another_process_is_used_by_the_next_load(w, query_counter):
    from sqlalchemy import text

    from helpdesk.core import refcache
    from helpdesk.sla.services import SlaContext

    seed_default_policies()
    _db.session.commit()
    ctx = SlaContext.load()
    assert ctx.policy_for(2, None).level1_minutes == 2 * 7 * 60
    with query_counter() as q:  # the rest of the transaction: no statement at all
        assert SlaContext.load() is ctx
    assert q.count == 0
    refcache.forget(_db.session())  # a new transaction: one statement checks the copy
    with query_counter() as q:
        assert SlaContext.load() is ctx
    assert q.count == 1, q.statements
    # Another process changes the normal priority's level-1 time with plain SQL: nothing
    # in this process sees it happen. Its commit is seen by our next transaction.
    _db.session.execute(text("UPDATE sla_policies SET level1_minutes = 90 "
                             "WHERE priority = 2 AND category_id IS NULL"))
    refcache.forget(_db.session())
    fresh = SlaContext.load()
    assert fresh is not ctx and fresh.policy_for(2, None).level1_minutes == 90
    t = make_ticket(w.user_a)  # Monday 10:00 Athens: 90 working minutes
    assert t.level_due_at == utc(2026, 3, 2, 9, 30)


def test_a_change_written_in_this_transaction_is_used_at_once(w):
    from helpdesk.sla import admin
    from helpdesk.sla.services import SlaContext

    assert SlaContext.load().policy_for(2, None).level1_minutes == 2 * 7 * 60  # built in
    admin.save_default_policy(w.admin, 2, admin.Targets(240, 5 * 420, 90, 3 * 420, 5 * 420),
                              now=at(0))
    assert SlaContext.load().policy_for(2, None).level1_minutes == 90
    _db.session.add(Closure(day=datetime(2026, 3, 2).date(), description="Έκτακτο κλείσιμο"))
    t = make_ticket(w.user_a)  # not flushed before: the closure is flushed for the check
    assert t.level_due_at == utc(2026, 3, 3, 7, 30)  # Tuesday 08:00 Athens + 90 minutes


# --- the sweep's batched escalation (helpdesk/sla/sweep.py) --------------------------------

def _escalation_state(ticket, since):
    from helpdesk.tickets.models import TicketStay

    events = _db.session.execute(
        select(TicketEvent.kind, TicketEvent.field, TicketEvent.old_value, TicketEvent.new_value,
               TicketEvent.reason, TicketEvent.actor_id, TicketEvent.at, TicketEvent.is_internal)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.at >= since)
        .order_by(TicketEvent.id)).all()
    stays = _db.session.execute(
        select(TicketStay.unit_id, TicketStay.level, TicketStay.arrived_at, TicketStay.left_at,
               TicketStay.left_how).where(TicketStay.ticket_id == ticket.id)
        .order_by(TicketStay.id)).all()
    _db.session.refresh(ticket)
    columns = ("status", "level", "unit_id", "assignee_id", "updated_at", "sla_state",
               "level_due_at", "first_response_due_at", "resolution_due_at",
               "first_response_minutes", "resolution_minutes", "first_response_breached",
               "resolution_breached")
    return events, stays, {c: getattr(ticket, c) for c in columns}


def test_the_sweep_escalates_a_batch_as_escalate_does_one_ticket(w):
    """The batch writes what tickets.services.escalate writes: events, stays, SLA columns."""
    from helpdesk.sla.sweep import reason

    by_sweep, by_hand = make_ticket(w.user_a), make_ticket(w.user_a)
    for t in (by_sweep, by_hand):
        services.claim(w.l1, t, now=at(5))  # so the assignee is cleared (and audited) too
    now = utc(2026, 3, 4, 8, 30)
    services.escalate(None, by_hand, reason(1, 2 * 420), now=now)  # normal: 2 days at level 1
    assert sweep(now=now).escalated == [by_sweep.id]
    swept, manual = _escalation_state(by_sweep, now), _escalation_state(by_hand, now)
    assert swept == manual
    events, stays, columns = swept
    assert [(e.kind, e.field) for e in events] == [
        ("escalate", "status"), ("escalate", "assignee"), ("escalate", "level"),
        ("escalate", "unit")]
    assert [(s.level, s.left_how) for s in stays] == [(1, "escalated"), (2, None)]
    assert columns["level"] == 2 and columns["assignee_id"] is None
    assert columns["level_due_at"] == utc(2026, 3, 9, 8, 30)


def test_a_ticket_that_fails_to_escalate_does_not_stop_the_others(w, monkeypatch):
    tickets = [make_ticket(w.user_a, minutes=i) for i in range(3)]
    bad = tickets[1]
    move = services._move

    def failing_move(ticket, *args, **kwargs):
        if ticket.id == bad.id:
            raise RuntimeError("boom")
        return move(ticket, *args, **kwargs)

    monkeypatch.setattr(services, "_move", failing_move)
    result = sweep(now=utc(2026, 3, 4, 8, 30))
    assert sorted(result.escalated) == sorted([tickets[0].id, tickets[2].id])
    assert result.failed == [bad.id]
    assert [t.level for t in tickets] == [2, 1, 2]
    assert not _db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == bad.id, TicketEvent.kind == "escalate")).all()
    monkeypatch.setattr(services, "_move", move)  # the next sweep gets it
    assert sweep(now=utc(2026, 3, 4, 8, 35)).escalated == [bad.id]


def test_the_chains_of_many_directorates_at_once(w):
    from helpdesk.org.models import Directorate
    from helpdesk.org.queries import chain_for_directorate, chains_for_directorates

    ids = list(_db.session.scalars(select(Directorate.id)))
    chains = chains_for_directorates(ids)
    assert chains == {d: chain_for_directorate(d) for d in ids}
    assert any(c.l1 and c.l2 and c.l3 for c in chains.values())
