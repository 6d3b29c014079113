"""The system as an actor: what the helpdesk does by itself (the SLA sweep, scheduled jobs).

Services take an actor for every write; when no person acts they are given ``SYSTEM``.
It is recorded as no user (``TicketEvent.actor_id`` NULL, shown as "the system"), holds no
role and passes no person's permission check: a service lets it through only where it says
so (``permissions.is_system``), e.g. ``tickets.services.escalate`` for the SLA sweep.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SystemActor:
    id: None = None
    name: str = "system"
    email: str | None = None
    #: Never signed in: every ``permissions.can*`` answers no for it.
    is_authenticated: bool = False
    is_active: bool = True
    is_admin: bool = False
    is_school: bool = False
    is_staff: bool = False
    school_id: None = None
    unit_ids: frozenset = field(default_factory=frozenset)
    managed_unit_ids: frozenset = field(default_factory=frozenset)


#: The one system actor.
SYSTEM = SystemActor()


def system_actor() -> SystemActor:
    """The actor services are given when the helpdesk itself acts."""
    return SYSTEM
