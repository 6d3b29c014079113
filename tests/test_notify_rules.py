"""helpdesk.notify.rules: which change is told to whom (pure, no app)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk.notify.rules import Audience, Change, Event, Intent, Kind, decide, group_events

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SCHOOL, TECH, PEER, SYSTEM = 10, 20, 21, None
UNIT, UPPER = 1, 2
_ids = iter(range(1, 10_000))


def ev(kind, field=None, old=None, new=None, reason=None, internal=False, shared=False,
       code=None, params=()):
    return Event(next(_ids), kind, field, old, new, reason, internal, shared, code, params)


def change(*events, actor=TECH, school=False, assignee=TECH, unit=UNIT, public=(100,)):
    return Change(ticket_id=7, unit_id=unit, assignee_id=assignee, actor_id=actor,
                  actor_is_school=school, at=AT, events=tuple(events),
                  public_message_ids=frozenset(public))


def kinds(intents, audience=None):
    return [i.kind for i in intents if audience is None or i.audience == audience]


def test_filing_acknowledges_to_the_school_and_tells_the_unit():
    got = decide(change(ev("created", "status", None, "new"), actor=SCHOOL, school=True,
                        assignee=None))
    assert got == [Intent(Kind.ACK, Audience.SCHOOL), Intent(Kind.NEW, Audience.UNIT, unit_id=UNIT)]


def test_a_public_reply_from_support_goes_to_the_school_with_its_message():
    got = decide(change(ev("reply", "message", None, "100")))
    assert got == [Intent(Kind.REPLY, Audience.SCHOOL, message_id=100)]
    assert not got[0].is_automatic  # a person's words, not an automatic report


def test_a_reply_that_waits_on_the_school_is_one_mail():
    got = decide(change(ev("reply", "message", None, "100"),
                        ev("await_school", "status", "open", "waiting")))
    assert got == [Intent(Kind.WAITING, Audience.SCHOOL, message_id=100)]


def test_an_internal_note_never_reaches_the_school():
    note = ev("note", "message", None, "101", internal=True)
    assert decide(change(note, public=())) == []
    # even a "reply" event pointing at a message that is not public quotes nothing
    assert decide(change(ev("reply", "message", None, "101"), public=())) == []


@pytest.mark.parametrize("action,kind", [("resolve", Kind.RESOLVED), ("reopen", Kind.REOPENED),
                                         ("close", Kind.CLOSED)])
def test_status_changes_by_support_or_the_system_go_to_the_school(action, kind):
    events = [ev("reply", "message", None, "100"), ev(action, "status", "open", action)]
    got = decide(change(*events))
    assert kinds(got, Audience.SCHOOL) == [kind]
    auto = decide(change(ev(action, "status", "resolved", action), actor=SYSTEM))
    assert kinds(auto, Audience.SCHOOL) == [kind] and auto[0].is_automatic


def test_closing_quotes_no_message():
    got = decide(change(ev("close", "status", "resolved", "closed"), actor=SYSTEM))
    assert got == [Intent(Kind.CLOSED, Audience.SCHOOL)]


def _escalation(shared=False):
    reason = "Χρειάζεται 2ο επίπεδο"
    return [ev("escalate", "status", "open", "new", reason=reason, shared=shared),
            ev("escalate", "assignee", str(TECH), None),
            ev("escalate", "level", "1", "2", reason=reason, shared=shared),
            ev("escalate", "unit", str(UNIT), str(UPPER), shared=shared)]


def test_escalation_tells_the_receiving_unit_the_reason_and_the_school_only_where_it_went():
    got = decide(change(*_escalation(), assignee=None, unit=UPPER))
    assert got == [Intent(Kind.ESCALATED, Audience.UNIT, unit_id=UPPER,
                          reason="Χρειάζεται 2ο επίπεδο"),
                   Intent(Kind.FORWARDED, Audience.SCHOOL, unit_id=UPPER)]


def test_an_escalation_shared_with_the_school_tells_it_the_reason_too():
    got = decide(change(*_escalation(shared=True), assignee=None, unit=UPPER))
    school = [i for i in got if i.audience == Audience.SCHOOL]
    assert school == [Intent(Kind.FORWARDED, Audience.SCHOOL, unit_id=UPPER,
                             reason="Χρειάζεται 2ο επίπεδο", reason_is_shared=True)]


def test_return_tells_the_lower_unit_with_the_instructions():
    events = [ev("return", "status", "open", "new", reason="Αλλάξτε το καλώδιο"),
              ev("return", "level", "2", "1", reason="Αλλάξτε το καλώδιο"),
              ev("return", "unit", str(UPPER), str(UNIT))]
    got = decide(change(*events, assignee=None))
    assert got == [Intent(Kind.RETURNED, Audience.UNIT, unit_id=UNIT, reason="Αλλάξτε το καλώδιο"),
                   Intent(Kind.FORWARDED, Audience.SCHOOL, unit_id=UNIT)]


def test_the_system_escalating_tells_the_unit_its_coded_reason_and_the_school_where():
    code, params = "sla.level_time_out", (("level", 1),)
    got = decide(change(ev("escalate", "level", "1", "2", reason="…", code=code, params=params),
                        ev("escalate", "unit", "1", "2"), actor=SYSTEM, unit=UPPER))
    assert got == [Intent(Kind.ESCALATED, Audience.UNIT, unit_id=UPPER, reason="…",
                          reason_code=code, reason_params=params),
                   Intent(Kind.FORWARDED, Audience.SCHOOL, unit_id=UPPER)]


def test_assignment_goes_to_the_assignee_but_a_claim_to_nobody():
    got = decide(change(ev("assign", "status", "new", "open"), ev("assign", "assignee", None, str(PEER)),
                        assignee=PEER))
    assert got == [Intent(Kind.ASSIGNED, Audience.USER, user_id=PEER)]
    assert decide(change(ev("claim", "status", "new", "open"),
                         ev("claim", "assignee", None, str(TECH)))) == []


def test_nobody_is_told_of_their_own_change():
    # a manager assigning the ticket to themselves
    got = decide(change(ev("assign", "assignee", None, str(TECH)), actor=TECH))
    assert got == []


def test_the_schools_reply_goes_to_the_assignee_or_else_the_unit():
    reply = ev("reply", "message", None, "100")
    resumed = ev("school_reply", "status", "waiting", "open")
    got = decide(change(reply, resumed, actor=SCHOOL, school=True, assignee=TECH))
    assert got == [Intent(Kind.SCHOOL_REPLY, Audience.USER, user_id=TECH, message_id=100)]
    got = decide(change(reply, actor=SCHOOL, school=True, assignee=None))
    assert got == [Intent(Kind.SCHOOL_REPLY, Audience.UNIT, unit_id=UNIT, message_id=100)]


def test_the_school_reopening_tells_its_technician_and_not_itself():
    got = decide(change(ev("reply", "message", None, "100"), ev("reopen", "status", "resolved", "open"),
                        actor=SCHOOL, school=True))
    assert got == [Intent(Kind.SCHOOL_REOPENED, Audience.USER, user_id=TECH, message_id=100)]


@pytest.mark.parametrize("kind", ["priority", "note", "claim"])
def test_changes_nobody_needs_to_hear_about(kind):
    assert decide(change(ev(kind, "priority" if kind == "priority" else "status", "2", "3"))) == []


def test_no_staff_only_reason_reaches_a_school_intent():
    events = [ev("reply", "message", None, "100"), ev("resolve", "status", "open", "resolved",
                                                       reason="ορατό"),
              ev("escalate", "level", "1", "2", reason="εσωτερικό")]
    for intent in decide(change(*events)):
        if intent.audience == Audience.SCHOOL:
            assert intent.reason is None


def test_group_events_splits_by_ticket_actor_and_moment():
    class E:
        def __init__(self, id, ticket_id, actor_id, at):
            self.id, self.ticket_id, self.actor_id, self.at = id, ticket_id, actor_id, at

    later = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    events = [E(3, 1, 5, AT), E(1, 1, 5, AT), E(2, 2, 5, AT), E(4, 1, 6, AT), E(5, 1, 5, later)]
    groups = group_events(events)
    assert [[e.id for e in g] for _, g in groups] == [[1, 3], [4], [5], [2]]
