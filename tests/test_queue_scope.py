"""A staff unit queue leaves out the scope condition (helpdesk.tickets.queries.AT_OWN_UNITS,
helpdesk.permissions.own_units_in_scope): its rows must be exactly those it holds with the
scope applied, for every kind of actor and ticket history, on the run's database."""
import pytest
from sqlalchemy import select

from helpdesk.extensions import db as _db
from helpdesk.permissions import own_units_in_scope, scope_tickets
from helpdesk.tickets import queries, services
from helpdesk.tickets.models import Ticket
from tests.factories import World, at, make_ticket


@pytest.fixture
def w(db):
    w = World()
    make_ticket(w.user_a)                                   # new at A's level 1
    mine = make_ticket(w.user_a, minutes=1)
    services.assign(w.l1, mine, w.l1, now=at(2))            # open, assigned
    up = make_ticket(w.user_a, minutes=3)
    services.escalate(w.l1, up, "Θέλει το ΠΣΔ.", now=at(4))  # now at level 2, stayed at 1
    make_ticket(w.user_b, minutes=5)
    make_ticket(w.user_far, minutes=6)                      # another area's units
    return w


def ids(stmt):
    return set(_db.session.scalars(stmt.with_only_columns(Ticket.id)))


@pytest.mark.parametrize("queue", sorted(queries.AT_OWN_UNITS))
def test_a_unit_queue_holds_what_it_holds_with_the_scope(w, queue):
    f = queries.Filters.from_args({})
    seen = 0
    for actor in (w.l1, w.l1_peer, w.l2, w.l3, w.l1_far, w.l2_far, w.manager, w.admin,
                  w.user_a):
        stmt = queries.queue_statement(actor, queue, f, now=at(10))
        assert ids(stmt) == ids(scope_tickets(actor, stmt)), (queue, actor.name)
        seen += len(ids(stmt))
    assert seen or queue in ("waiting", "breaching")


def test_only_unit_staff_skip_the_scope(w):
    assert own_units_in_scope(w.l1) and own_units_in_scope(w.manager)
    assert not own_units_in_scope(w.admin) and not own_units_in_scope(w.user_a)
    assert not own_units_in_scope(None)
    w.l1.is_active_account = False
    assert not own_units_in_scope(w.l1)


def test_the_open_queue_of_level_2_has_the_escalated_ticket_and_no_other_area(w):
    f = queries.Filters.from_args({})
    got = _db.session.scalars(queries.queue_statement(w.l2, "open", f, now=at(10))
                              .with_only_columns(Ticket.subject)).all()
    assert len(got) == 1
    assert not ids(queries.queue_statement(w.l2_far, "open", f, now=at(10))) & ids(
        select(Ticket).where(Ticket.school_id == w.school_a.id))
