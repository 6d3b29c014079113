"""The SLA clock (pure: no Flask, no DB): ``compute(now, events, calendar, policy)``.

Three clocks run in working time from a ticket's event history:

- first response: from filing to the first staff reply;
- resolution: from filing to resolution; it stops while the ticket is resolved and
  runs again after a reopen (resolved time is not counted);
- level: from the ticket's arrival at its current level (each escalation or return
  starts it anew, and so does a reopen) while the ticket is open.

Every clock stops while the ticket waits on the school (status ``waiting``), and while it
is linked to an open known outage (events of field ``incident``: a new value starts the
hold, an empty one ends it; helpdesk.incidents.rules): the incident's clock is the one
that runs then. The paused working time is credited, so due times move later by exactly
that much.
Events after ``now`` are ignored, so the result depends only on its inputs.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.sla.calendar import BusinessCalendar, add_working_time, working_time

COUNTING = frozenset({"new", "open"})
PAUSED = "waiting"
STOPPED = frozenset({"resolved", "closed"})
STATES = ("ok", "warning", "breached", "paused")
#: The field of the events that link a ticket to a known outage (new: its id) and
#: release it (new: None): the clocks stop in between.
HOLD = "incident"
#: The event fields the clock reads (the rest of a history is ignored).
FIELDS = ("status", "level", HOLD)
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Event:
    """One fact from the history: a status change, a level change or the first response."""

    at: datetime
    #: "status", "level" or "first_response"; anything else is ignored.
    field: str
    old: str | None = None
    new: str | None = None


@dataclass(frozen=True)
class Policy:
    """Targets in working minutes (None: no target) and the warning share."""

    first_response_minutes: int | None
    resolution_minutes: int | None
    #: Time allowed at levels 1, 2 and 3.
    level_minutes: tuple[int | None, int | None, int | None] = (None, None, None)
    warn_ratio: float = 0.75

    def for_level(self, level: int | None) -> int | None:
        if level in (1, 2, 3):
            return self.level_minutes[level - 1]
        return None


@dataclass(frozen=True)
class Clock:
    target_minutes: int | None
    started_at: datetime
    elapsed_minutes: float
    #: When the target is (or was, or would have been) reached; None without a target.
    due_at: datetime | None
    #: When the clock stopped for good (responded, resolved); None while it runs.
    stopped_at: datetime | None
    is_paused: bool
    is_breached: bool
    is_warning: bool

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None

    @property
    def remaining_minutes(self) -> float | None:
        if self.target_minutes is None:
            return None
        return self.target_minutes - self.elapsed_minutes


@dataclass(frozen=True)
class SlaResult:
    level: int | None
    status: str | None
    first_response: Clock
    resolution: Clock
    #: None when the ticket is resolved or closed.
    level_clock: Clock | None
    #: ok, warning, breached or paused.
    state: str

    @property
    def level_due_at(self) -> datetime | None:
        return self.level_clock.due_at if self.level_clock else None


def compute(now: datetime, events: Iterable[Event], calendar: BusinessCalendar,
            policy: Policy) -> SlaResult:
    """The SLA of a ticket at ``now`` from its history."""
    history = sorted((e for e in events if e.at <= now), key=lambda e: e.at)
    statuses = [(e.at, e.new) for e in history if e.field == "status"]
    if not statuses:
        raise ValueError("the history has no status event (the ticket's filing)")
    created_at = statuses[0][0]
    status = statuses[-1][1]
    holds, held = _holds(history, now)
    segments = _without(_segments(statuses, now), holds)
    if held and status in COUNTING:
        status = PAUSED  # the clocks stand still, as when waiting on the school
    responded = next((e.at for e in history if e.field == "first_response"), None)
    resolved = _last_stop(statuses) if status in STOPPED else None
    if responded is None and resolved is not None:
        responded = resolved
    ratio = policy.warn_ratio
    first = _clock(calendar, segments, created_at, responded, now,
                   policy.first_response_minutes, ratio, status)
    resolution = _clock(calendar, segments, created_at, resolved, now,
                        policy.resolution_minutes, ratio, status)
    level, arrived_at = _level(history, created_at)
    level_clock = None
    if status not in STOPPED:
        level_clock = _clock(calendar, segments, arrived_at, None, now,
                             policy.for_level(level), ratio, status)
    return SlaResult(level=level, status=statuses[-1][1], first_response=first, resolution=resolution,
                     level_clock=level_clock,
                     state=_state(status, first, resolution, level_clock))


def _segments(statuses, now) -> list[tuple[datetime, datetime]]:
    """The intervals in which the clocks count (status new or open), up to ``now``."""
    out = []
    for i, (start, value) in enumerate(statuses):
        end = statuses[i + 1][0] if i + 1 < len(statuses) else now
        if value in COUNTING and end > start:
            out.append((start, end))
    return out


def _holds(history, now) -> tuple[list[tuple[datetime, datetime]], bool]:
    """The intervals in which the ticket was linked to an open incident, and whether it
    still is."""
    out, start = [], None
    for e in history:
        if e.field != HOLD:
            continue
        if e.new and start is None:
            start = e.at
        elif not e.new and start is not None:
            out.append((start, e.at))
            start = None
    if start is not None:
        out.append((start, now))
    return out, start is not None


def _without(segments, holds) -> list[tuple[datetime, datetime]]:
    """``segments`` minus the ``holds`` intervals."""
    for hs, he in holds:
        cut = []
        for s, e in segments:
            if he <= s or hs >= e:
                cut.append((s, e))
                continue
            if s < hs:
                cut.append((s, hs))
            if he < e:
                cut.append((he, e))
        segments = cut
    return segments


def _last_stop(statuses) -> datetime:
    """When the ticket entered its current resolved/closed run."""
    at = statuses[-1][0]
    for when, value in reversed(statuses):
        if value not in STOPPED:
            break
        at = when
    return at


def _level(history, created_at) -> tuple[int | None, datetime]:
    """The current level and when the ticket arrived there (or was last reopened)."""
    level, arrived = None, created_at
    for e in history:
        if e.field == "level":
            level, arrived = _int(e.new), e.at
        elif e.field == "status" and e.old in STOPPED and e.new in COUNTING:
            arrived = e.at  # a reopen gives the level a fresh clock
    return level, arrived


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _clock(calendar, segments, start, stop, now, target, ratio, status) -> Clock:
    end = stop if stop is not None else now
    counted = [(max(s, start), min(e, end)) for s, e in segments if e > start and s < end]
    elapsed = timedelta(0)
    due = None
    goal = None if target is None else timedelta(minutes=target)
    for s, e in counted:
        span = working_time(calendar, s, e)
        if goal is not None and due is None and elapsed + span >= goal:
            due = add_working_time(calendar, s, goal - elapsed)
        elapsed += span
    if goal is not None and due is None:
        due = add_working_time(calendar, end, goal - elapsed)
    running = stop is None
    minutes = elapsed / _MINUTE
    if target is None:
        breached = warning = False
    elif running:
        breached = elapsed >= goal
        warning = not breached and minutes >= ratio * target
    else:
        breached = elapsed > goal
        warning = False
    return Clock(target_minutes=target, started_at=start, elapsed_minutes=minutes, due_at=due,
                 stopped_at=stop, is_paused=running and status == PAUSED,
                 is_breached=breached, is_warning=warning)


def _state(status, first, resolution, level_clock) -> str:
    if status in STOPPED:
        return "breached" if first.is_breached or resolution.is_breached else "ok"
    running = [c for c in (first, resolution, level_clock) if c is not None and c.is_running]
    if any(c.is_breached for c in running):
        return "breached"
    if status == PAUSED:
        return "paused"
    if any(c.is_warning for c in running):
        return "warning"
    return "ok"
