"""The pure policy of what a school reads of a ticket's events. No app, no database."""
import itertools

import pytest

from helpdesk.tickets import visibility as v
from helpdesk.tickets.states import Action

#: Every kind the ticket writers record (helpdesk.tickets.services): the status actions,
#: the filing, replies, notes, priority and category changes.
RECORDED_KINDS = {a.value for a in Action} | {"created", "reply", "note", "priority", "category",
                                              "rating", "incident"}
STAFF_ONLY = {"note"}
FLAGS = list(itertools.product([False, True], repeat=2))


def test_every_recorded_kind_is_classified():
    assert RECORDED_KINDS - STAFF_ONLY == v.SCHOOL_KINDS
    assert v.SHARED_REASON_KINDS | v.STAFF_REASON_KINDS == v.SCHOOL_KINDS
    assert not v.SHARED_REASON_KINDS & v.STAFF_REASON_KINDS
    assert v.MOVE_KINDS <= v.STAFF_REASON_KINDS


@pytest.mark.parametrize("kind", sorted(RECORDED_KINDS | {"unknown", "mail_bounce", ""}))
@pytest.mark.parametrize("internal,shared", FLAGS)
def test_staff_see_every_event_and_its_reason(kind, internal, shared):
    assert v.view(kind, is_internal=internal, is_shared=shared,
                  sees_staff_text=True) == v.EventView(True, True)


@pytest.mark.parametrize("kind", sorted(RECORDED_KINDS | {"unknown", "mail_bounce", ""}))
@pytest.mark.parametrize("internal,shared", FLAGS)
def test_a_school_sees_public_events_and_only_shared_reasons(kind, internal, shared):
    got = v.school_view(kind, is_internal=internal, is_shared=shared)
    assert got == v.view(kind, is_internal=internal, is_shared=shared, sees_staff_text=False)
    if internal or kind not in RECORDED_KINDS - STAFF_ONLY:
        assert got == v.HIDDEN
    else:
        assert got == v.EventView(True, shared)


@pytest.mark.parametrize("kind", ["escalate", "return"])
def test_a_move_is_shown_without_its_reason_unless_shared(kind):
    assert v.school_view(kind, is_internal=False, is_shared=False) == v.EventView(True, False)
    assert v.school_view(kind, is_internal=False, is_shared=True) == v.EventView(True, True)
    assert v.is_move(kind, "unit") and not v.is_move(kind, "level")


@pytest.mark.parametrize("kind", sorted(RECORDED_KINDS))
def test_defaults_share_what_is_written_to_the_school_only(kind):
    expected = kind in {"created", "reply", "resolve", "reopen", "close", "claim", "assign",
                        "await_school", "school_reply",
                        "confirm", "rating",  # the school's own answer and comment
                        "incident"}  # the outage's public update
    assert v.is_shared_by_default(kind) == expected
    assert v.is_shared_by_default(kind, is_internal=True) is False


def test_notes_escalation_reasons_and_priority_reasons_are_staff_text_by_default():
    for kind in ("note", "escalate", "return", "priority", "category"):
        assert not v.is_shared_by_default(kind)
    assert not v.school_view("note", is_internal=True, is_shared=False).is_shown


@pytest.mark.parametrize("kind,field", list(itertools.product(sorted(RECORDED_KINDS),
                                                         ["unit", "level", "status", None])))
def test_only_the_unit_event_of_a_move_names_the_destination(kind, field):
    assert v.is_move(kind, field) == (kind in ("escalate", "return") and field == "unit")
