"""What a school may read of a ticket's events (pure: no Flask, no database).

Staff read everything. A school reads that its request moved, who took it, its status and
priority, and the texts written *to* it (replies, the resolution, a reopening); it never
reads what staff write to staff: internal notes, escalation reasons, the instructions of a
return down, the reason of a priority or category change or an automatic escalation — unless the
technician chose to tell the school (``is_shared_with_school``).

Kinds this module does not know (a future kind, a typo) are staff-only until listed here.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Event kinds a school sees (the event itself: who, when, from, to).
SCHOOL_KINDS = frozenset({
    "created", "claim", "assign", "reply", "await_school", "school_reply",
    "escalate", "return", "resolve", "reopen", "close", "priority", "category",
    "incident", "confirm", "rating",
})
#: Kinds whose reason is text for the school by default (it is also a public reply, or
#: the system's own wording meant for everyone).
SHARED_REASON_KINDS = frozenset({"created", "reply", "resolve", "reopen", "close",
                                 "claim", "assign", "await_school", "school_reply",
                                 "incident", "confirm", "rating"})
#: Kinds whose reason staff write to staff; shared only when the technician says so.
STAFF_REASON_KINDS = frozenset({"escalate", "return", "priority", "category"})
#: Kinds that move a ticket between levels and units: the school sees where it went.
MOVE_KINDS = frozenset({"escalate", "return"})


@dataclass(frozen=True)
class EventView:
    """What one reader sees of one event."""

    #: The event appears at all (its kind, actor, time and changed values).
    is_shown: bool
    #: Its reason (or reason code) appears too.
    shows_reason: bool


HIDDEN = EventView(False, False)


def is_shared_by_default(kind: str, *, is_internal: bool = False) -> bool:
    """The ``is_shared_with_school`` a new event of ``kind`` gets unless the actor says."""
    return not is_internal and kind in SHARED_REASON_KINDS


def view(kind: str, *, is_internal: bool, is_shared: bool, sees_staff_text: bool) -> EventView:
    """What a reader sees of an event; ``sees_staff_text`` comes from helpdesk.permissions."""
    if sees_staff_text:
        return EventView(True, True)
    if is_internal or kind not in SCHOOL_KINDS:
        return HIDDEN
    return EventView(True, is_shared)


def school_view(kind: str, *, is_internal: bool, is_shared: bool) -> EventView:
    """What a school (or its official address) sees of an event."""
    return view(kind, is_internal=is_internal, is_shared=is_shared, sees_staff_text=False)


def is_move(kind: str, field: str | None) -> bool:
    """The event that says which unit a moved ticket went to."""
    return kind in MOVE_KINDS and field == "unit"
