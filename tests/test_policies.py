"""Pure policies: states, routing, Greek folding. No app, no database."""
import itertools

import pytest

from helpdesk.core.text import fold, like_pattern
from helpdesk.org import routing
from helpdesk.org.routing import Chain
from helpdesk.tickets.states import (
    OPEN_STATUSES,
    TRANSITIONS,
    Action,
    IllegalTransition,
    Status,
    allowed_actions,
    next_status,
)


@pytest.mark.parametrize("status,action", list(itertools.product(Status, Action)))
def test_every_pair_is_either_in_the_table_or_illegal(status, action):
    if (status, action) in TRANSITIONS:
        assert next_status(status, action) == TRANSITIONS[(status, action)]
    else:
        with pytest.raises(IllegalTransition):
            next_status(status, action)


def test_closed_is_final():
    assert allowed_actions(Status.CLOSED) == frozenset()


def test_only_resolved_tickets_close_or_reopen():
    for status in Status:
        assert ((status, Action.CLOSE) in TRANSITIONS) == (status == Status.RESOLVED)
        assert ((status, Action.REOPEN) in TRANSITIONS) == (status == Status.RESOLVED)


def test_moving_between_levels_makes_the_ticket_new_at_the_receiving_unit():
    for status in OPEN_STATUSES:
        assert next_status(status, Action.ESCALATE) == Status.NEW
        assert next_status(status, Action.RETURN) == Status.NEW


def test_claiming_a_waiting_ticket_keeps_it_waiting():
    assert next_status(Status.WAITING, Action.CLAIM) == Status.WAITING
    assert next_status(Status.NEW, Action.CLAIM) == Status.OPEN


def test_school_reply_only_resumes_a_waiting_ticket():
    assert next_status(Status.WAITING, Action.SCHOOL_REPLY) == Status.OPEN
    with pytest.raises(IllegalTransition):
        next_status(Status.OPEN, Action.SCHOOL_REPLY)


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError):
        next_status("deleted", Action.CLAIM)


FULL = Chain(l1=10, l2=20, l3=30)


def test_start_at_the_category_level():
    assert routing.start(FULL, 1) == (1, 10)
    assert routing.start(FULL, 2) == (2, 20)
    assert routing.start(FULL, 3) == (3, 30)


def test_start_skips_a_missing_level():
    assert routing.start(Chain(l1=None, l2=20, l3=30), 1) == (2, 20)
    assert routing.start(Chain(l1=10, l2=None, l3=30), 2) == (3, 30)
    with pytest.raises(routing.NoHigherLevel):
        routing.start(Chain(None, None, None), 1)


def test_escalation_and_return_follow_the_chain():
    assert routing.escalation_target(FULL, 1) == (2, 20)
    assert routing.escalation_target(FULL, 2) == (3, 30)
    assert routing.escalation_target(Chain(10, None, 30), 1) == (3, 30)
    with pytest.raises(routing.NoHigherLevel):
        routing.escalation_target(FULL, 3)
    assert routing.return_target(FULL, 3) == (2, 20)
    assert routing.return_target(FULL, 2) == (1, 10)
    assert routing.return_target(Chain(10, None, 30), 3) == (1, 10)
    with pytest.raises(routing.NoLowerLevel):
        routing.return_target(FULL, 1)


@pytest.mark.parametrize("text", ["ΕΚΤΥΠΩΤΗΣ", "Εκτυπωτής", "εκτυπωτης", "εκτυπωτής", "ΕκΤυΠωΤήΣ"])
def test_printer_folds_the_same_whatever_the_case_and_accents(text):
    assert fold(text) == "εκτυπωτησ"


def test_fold_handles_diaeresis_final_sigma_and_spaces():
    assert fold("Πρωτοϋπουργός  ΑΫΠΝΊΑ") == "πρωτουπουργοσ αυπνια"
    assert fold("ΐ ΰ") == "ι υ"
    assert fold(None) == ""
    assert fold("Wi-Fi Δίκτυο") == "wi-fi δικτυο"


def test_like_pattern_escapes_wildcards():
    assert like_pattern("100%_") == "%100\\%\\_%"
    assert like_pattern("Ηλεκτρονικό") == "%ηλεκτρονικο%"
