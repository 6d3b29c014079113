"""The one permission check: may this actor do this to this object.

Every list, count, search and export is scoped by ``scope_tickets``; every action
calls ``can`` (through ``require``). An object the actor may not see is a 404.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, exists, false, or_, select, true

from helpdesk.accounts.models import User
from helpdesk.core.errors import NotFound, PermissionDenied
from helpdesk.tickets.models import Ticket, TicketStay
from helpdesk.tickets.states import OPEN_STATUSES, Status


class Perm(StrEnum):
    VIEW = "view"
    VIEW_INTERNAL = "view_internal"
    REPLY = "reply"
    NOTE = "note"
    CLAIM = "claim"
    ASSIGN = "assign"
    PRIORITY = "priority"
    ESCALATE = "escalate"
    RETURN = "return"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    FILE = "file"


#: Actions a staff member may take on a ticket at one of their units while it is open.
_WORK = frozenset({Perm.PRIORITY, Perm.ESCALATE, Perm.RETURN, Perm.RESOLVE})


def _is_anonymous(actor) -> bool:
    return actor is None or not getattr(actor, "is_authenticated", False)


def can_view(actor: User | None, ticket: Ticket, stay_unit_ids: frozenset[int] | None = None) -> bool:
    """Schools see their own school's tickets; staff those that are or were at their unit."""
    if _is_anonymous(actor) or not actor.is_active:
        return False
    if actor.is_admin:
        return True
    if actor.is_school:
        return actor.school_id == ticket.school_id
    if actor.is_staff:
        if ticket.unit_id in actor.unit_ids:
            return True
        if stay_unit_ids is None:
            return _stayed_at_any(ticket, frozenset(actor.unit_ids))
        return bool(stay_unit_ids & actor.unit_ids)
    return False


def can(
    actor: User | None,
    perm: Perm | str,
    ticket: Ticket,
    *,
    now: datetime | None = None,
    reopen_window: timedelta | None = None,
) -> bool:
    """May ``actor`` do ``perm`` to ``ticket``."""
    perm = Perm(perm)
    if not can_view(actor, ticket):
        return False
    if perm == Perm.VIEW:
        return True
    is_open = ticket.status in OPEN_STATUSES
    at_my_unit = actor.is_admin or (actor.is_staff and ticket.unit_id in actor.unit_ids)
    if perm == Perm.VIEW_INTERNAL:
        return actor.is_admin or actor.is_staff
    if perm == Perm.REPLY:
        return is_open and (actor.is_school or at_my_unit)
    if perm == Perm.NOTE:
        return (actor.is_staff or actor.is_admin) and at_my_unit and ticket.status != Status.CLOSED
    if perm == Perm.ASSIGN:
        return is_open and (actor.is_admin or bool(actor.managed_unit_ids & {ticket.unit_id})
                            or (actor.is_staff and at_my_unit))
    if perm == Perm.CLAIM:
        return is_open and actor.is_staff and ticket.unit_id in actor.unit_ids
    if perm in _WORK:
        return is_open and at_my_unit
    if perm == Perm.REOPEN:
        if ticket.status != Status.RESOLVED:
            return False
        if actor.is_school:
            if now is None or reopen_window is None or ticket.resolved_at is None:
                return False
            return now <= ticket.resolved_at + reopen_window
        return at_my_unit
    return False


def sees_staff_text(actor: User | None, ticket: Ticket) -> bool:
    """May ``actor`` read what staff write to staff on ``ticket``: internal notes and their
    files, escalation reasons, return instructions, automatic escalation lines (unless a
    technician shared them with the school: helpdesk.tickets.visibility).

    The one check behind the web timeline, the API and the notification mail."""
    return can(actor, Perm.VIEW_INTERNAL, ticket)


def require(actor, perm: Perm | str, ticket: Ticket, **kwargs) -> None:
    """Raise NotFound when the actor may not see the ticket, PermissionDenied otherwise."""
    if not can_view(actor, ticket):
        raise NotFound()
    if not can(actor, perm, ticket, **kwargs):
        raise PermissionDenied()


def can_file_for(actor: User | None, school_id: int) -> bool:
    """A school files for itself; an administrator for any school."""
    if _is_anonymous(actor) or not actor.is_active:
        return False
    return actor.is_admin or (actor.is_school and actor.school_id == school_id)


def _stayed_at_any(ticket: Ticket, unit_ids: frozenset[int]) -> bool:
    """Did the ticket ever stay at one of these units: one query per loaded ticket and set
    of units, remembered on the instance (a page asks for a dozen permissions). Safe to
    remember: stays are never deleted, and a ticket that moves to one of these units is
    seen through ``unit_id`` before this is asked."""
    from helpdesk.extensions import db

    memo = ticket.__dict__.setdefault("_stayed_at_memo", {})
    if unit_ids not in memo:
        memo[unit_ids] = bool(db.session.scalar(
            select(_stayed_at(unit_ids, Ticket.id == ticket.id))))
    return memo[unit_ids]


def _stayed_at(unit_ids, *extra):
    return exists().where(
        TicketStay.ticket_id == Ticket.id, TicketStay.unit_id.in_(list(unit_ids)), *extra
    )


def ticket_scope(actor: User | None):
    """The SQL condition on Ticket for what ``actor`` may see."""
    if _is_anonymous(actor) or not actor.is_active:
        return false()
    if actor.is_admin:
        return true()
    if actor.is_school:
        return Ticket.school_id == actor.school_id
    if actor.is_staff and actor.unit_ids:
        # A ticket at my unit has a stay there too; saying so first lets the planner
        # answer most queue rows from the tickets index without probing the stays.
        return or_(Ticket.unit_id.in_(list(actor.unit_ids)), _stayed_at(actor.unit_ids))
    return false()


def scope_tickets(actor: User | None, stmt: Select) -> Select:
    """Restrict a select over Ticket to what ``actor`` may see."""
    return stmt.where(ticket_scope(actor))


# --- the equipment registry -----------------------------------------------------------------

def _served_school_ids(actor: User):
    from helpdesk.org.queries import schools_served_by_units

    return schools_served_by_units(actor.unit_ids)


def can_view_school_equipment(actor: User | None, school_id: int | None) -> bool:
    """Schools see their own registry; staff the registries of the schools their units serve."""
    if _is_anonymous(actor) or not actor.is_active or school_id is None:
        return False
    if actor.is_admin:
        return True
    if actor.is_school:
        return actor.school_id == school_id
    if actor.is_staff and actor.unit_ids:
        from helpdesk.extensions import db
        from helpdesk.org.models import School

        return db.session.scalar(select(School.id).where(
            School.id == school_id, School.id.in_(_served_school_ids(actor)))) is not None
    return False


def can_edit_school_equipment(actor: User | None, school_id: int | None) -> bool:
    """Whoever may see a school's registry keeps it current (the school, its units, admins)."""
    return can_view_school_equipment(actor, school_id)


def equipment_scope(actor: User | None):
    """The SQL condition on EquipmentItem for what ``actor`` may see."""
    from helpdesk.inventory.models import EquipmentItem

    if _is_anonymous(actor) or not actor.is_active:
        return false()
    if actor.is_admin:
        return true()
    if actor.is_school:
        return EquipmentItem.school_id == actor.school_id
    if actor.is_staff and actor.unit_ids:
        return EquipmentItem.school_id.in_(_served_school_ids(actor))
    return false()


def can_link_equipment(actor: User | None, ticket: Ticket) -> bool:
    """Technicians at the ticket's unit (and admins) link and unlink its equipment."""
    if not can_view(actor, ticket):
        return False
    return actor.is_admin or (actor.is_staff and ticket.unit_id in actor.unit_ids)


def import_school_ids(actor: User | None):
    """The schools whose registry ``actor`` may import into: a select of ids, or None for all."""
    from helpdesk.org.models import School

    if _is_anonymous(actor) or not actor.is_active:
        return select(School.id).where(false())
    if actor.is_admin:
        return None
    if actor.is_school:
        return select(School.id).where(School.id == actor.school_id)
    if actor.is_staff and actor.unit_ids:
        return _served_school_ids(actor)
    return select(School.id).where(false())


# --- census campaigns (απογραφή) ------------------------------------------------------------

def can_manage_mail(actor: User | None) -> bool:
    """Only administrators handle inbound mail, quarantine and suppressed addresses."""
    return not _is_anonymous(actor) and actor.is_active and actor.is_admin


def can_manage_census(actor: User | None) -> bool:
    """Only administrators open census campaigns."""
    return not _is_anonymous(actor) and actor.is_active and actor.is_admin


def can_view_census_reports(actor: User | None) -> bool:
    """Administrators and staff see completion dashboards and procurement reports."""
    return (not _is_anonymous(actor) and actor.is_active
            and (actor.is_admin or actor.is_staff))


def census_school_ids(actor: User | None):
    """The schools whose census data ``actor`` may see: a select of ids, or None for all.

    Schools their own; staff the schools their units serve; administrators every school.
    """
    from helpdesk.org.models import School

    if _is_anonymous(actor) or not actor.is_active:
        return select(School.id).where(false())
    if actor.is_admin:
        return None
    if actor.is_school:
        return select(School.id).where(School.id == actor.school_id)
    if actor.is_staff and actor.unit_ids:
        return _served_school_ids(actor)
    return select(School.id).where(false())


def can_view_census_school(actor: User | None, school_id: int) -> bool:
    """May ``actor`` see this school's census submission, statement and signed file."""
    return can_view_school_equipment(actor, school_id)


def can_submit_census_for(actor: User | None, school_id: int) -> bool:
    """A school's own account submits its census; nobody submits for another school."""
    return (not _is_anonymous(actor) and actor.is_active and actor.is_school
            and actor.school_id == school_id)


# --- webhooks -------------------------------------------------------------------------------

def can_manage_webhooks(actor: User | None) -> bool:
    """Only administrators subscribe, edit, pause, test and delete webhooks."""
    return not _is_anonymous(actor) and actor.is_active and actor.is_admin
