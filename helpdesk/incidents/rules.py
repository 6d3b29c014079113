"""Incident rules (pure: no Flask, no database): statuses and their transitions, what a
scope covers, and which scopes a level-1 technician may declare.

Statuses: investigating → identified → monitoring → resolved, in any order but never
back from resolved (a new outage is a new incident). An update may keep the status (a
plain timeline entry). Resolving is final: it resolves every ticket still linked.

The SLA of a linked ticket follows the incident (helpdesk.sla.clock): while a ticket is
linked to an open incident its clocks are paused, as when it waits on the school; the
incident's own clock (``time to resolve`` in the reports) is what is measured. Unlinking
restarts the ticket's clocks; the incident's resolution stops them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


OPEN_STATUSES = frozenset({Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING})

#: status -> the statuses an update may set (keeping the status is a plain update).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    s: frozenset(Status) for s in OPEN_STATUSES
}
TRANSITIONS[Status.RESOLVED] = frozenset()


class IllegalTransition(ValueError):
    def __init__(self, current: str, new: str):
        super().__init__(f"an incident that is {current} cannot become {new}")
        self.current, self.new = current, new


def next_status(current: str, new: str) -> Status:
    """The status after an update asking for ``new``; IllegalTransition if not allowed."""
    try:
        cur, to = Status(current), Status(new)
    except ValueError:
        raise IllegalTransition(current, new) from None
    if to not in TRANSITIONS[cur]:
        raise IllegalTransition(current, new)
    return to


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


class ScopeKind(StrEnum):
    COUNTRY = "country"
    REGIONS = "regions"
    DIRECTORATES = "directorates"
    PARTNERS = "partners"
    SCHOOLS = "schools"


#: ScopeKind -> the IncidentScope.kind of its rows.
ROW_KIND = {ScopeKind.REGIONS: "region", ScopeKind.DIRECTORATES: "directorate",
            ScopeKind.PARTNERS: "partner", ScopeKind.SCHOOLS: "school"}
#: At most this many places in one scope (a longer list is a bigger scope).
MAX_SCOPE_IDS = 2000
#: Tickets posted to, resolved and notified per transaction by the update job.
BATCH_SIZE = 200


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Place:
    """Where a school is: what a scope is matched against."""

    school_id: int
    directorate_id: int
    region_id: int
    #: The level-2 units (ΠΣΔ partners) whose area includes the school's directorate.
    partner_ids: frozenset[int] = frozenset()


class BadScope(ValueError):
    pass


def make_scope(kind: str, ids: Iterable[int]) -> Scope:
    """A valid scope, or BadScope: the country takes no ids; every other kind at least one
    and at most MAX_SCOPE_IDS."""
    try:
        value = ScopeKind(kind)
    except ValueError:
        raise BadScope("unknown scope") from None
    chosen = frozenset(int(i) for i in ids)
    if value == ScopeKind.COUNTRY:
        return Scope(value)
    if not chosen:
        raise BadScope("empty scope")
    if len(chosen) > MAX_SCOPE_IDS:
        raise BadScope("scope too long")
    return Scope(value, chosen)


def covers(scope: Scope, place: Place) -> bool:
    """Does the incident's scope include the school at ``place``."""
    if scope.kind == ScopeKind.COUNTRY:
        return True
    if scope.kind == ScopeKind.REGIONS:
        return place.region_id in scope.ids
    if scope.kind == ScopeKind.DIRECTORATES:
        return place.directorate_id in scope.ids
    if scope.kind == ScopeKind.PARTNERS:
        return bool(place.partner_ids & scope.ids)
    return place.school_id in scope.ids


def within(scope_directorates: frozenset[int] | None, own: frozenset[int] | None) -> bool:
    """May someone whose incidents are bounded by the directorates ``own`` (None: no bound)
    declare or update an incident whose scope spans ``scope_directorates`` (None: more
    than directorates can say, e.g. the whole country or a region)."""
    if own is None:
        return True
    if scope_directorates is None or not scope_directorates:
        return False
    return scope_directorates <= own
