"""The one permission check: may this actor do this to this object.

Every list, count, search and export is scoped by ``scope_tickets``; every action
calls ``can`` (through ``require``). An object the actor may not see is a 404.

Nothing outside this module (and the account models that define the roles) reads an
actor's role: tests/test_permissions_single_place.py fails if one does. Code that needs
to know which side of a page to show asks ``acts_for_school`` / ``works_at_units``;
administrators' pages are guarded by ``admin_only`` (views) and ``require_admin``
(services); templates reach the same functions through ``register``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, and_, exists, false, func, or_, select, true

from helpdesk.accounts.models import Role, UnitMembership, User
from helpdesk.accounts.system import SystemActor
from helpdesk.canned.models import CannedReply
from helpdesk.census import rules as census_rules
from helpdesk.census.models import target_condition
from helpdesk.core.errors import NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.incidents import rules as incident_rules
from helpdesk.incidents.models import Incident, IncidentScope
from helpdesk.inventory.models import EquipmentItem
from helpdesk.kb.models import ArticleStatus as KbStatus
from helpdesk.kb.models import Audience as KbAudience
from helpdesk.kb.models import KbArticle
from helpdesk.org.models import Directorate, PartnerArea, School, SupportUnit
from helpdesk.org.queries import schools_served_by_units
from helpdesk.tickets.models import Ticket, TicketStay, stayed_at_units
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
    RECATEGORISE = "recategorise"
    CONFIRM = "confirm"  #: the school says whether the resolution worked


#: Actions a staff member may take on a ticket at one of their units while it is open.
_WORK = frozenset({Perm.PRIORITY, Perm.ESCALATE, Perm.RETURN, Perm.RESOLVE, Perm.RECATEGORISE})


def _is_anonymous(actor) -> bool:
    return actor is None or not getattr(actor, "is_authenticated", False)


def _is_signed_in(actor) -> bool:
    return not _is_anonymous(actor) and actor.is_active


def is_system(actor) -> bool:
    """The helpdesk itself acting (helpdesk.accounts.system.SYSTEM; None too, as the sweep
    passed before the system had an actor): a service that allows it says so explicitly."""
    return actor is None or isinstance(actor, SystemActor)


# --- who the actor is: the side of a page, not access ---------------------------------------

def acts_for_school(actor) -> bool:
    """The actor is a school: its account, or its official address writing by mail
    (helpdesk.mail.queries.SchoolAddress, helpdesk.notify.services.AddressActor).

    Not an access decision (``can`` and the scopes decide those): it picks the school's
    side of a page (its queues and wording, no SLA clock) and what a school's words cause
    (its reply resumes a waiting ticket; it cannot ask itself to wait)."""
    return actor is not None and bool(getattr(actor, "is_school", False))


def works_at_units(actor) -> bool:
    """The actor is a technician or a manager: a member of support units, with the unit
    queues (unassigned, waiting, breaching, …) and a reply that claims an unassigned ticket.
    Not an access decision; administrators are not unit members."""
    return actor is not None and bool(getattr(actor, "is_staff", False))


def is_support_staff(actor) -> bool:
    """Technicians, managers and administrators: the people who answer the schools (a mail
    from one of them is routed as staff mail)."""
    return actor is not None and bool(getattr(actor, "is_staff", False)
                                      or getattr(actor, "is_admin", False))


def school_of(actor) -> int | None:
    """The school a school actor speaks for; None for everyone else."""
    return actor.school_id if acts_for_school(actor) else None


# --- administrators ---------------------------------------------------------------------------

def is_administrator(actor) -> bool:
    """A signed-in, active administrator: the only one who changes the system's settings."""
    return _is_signed_in(actor) and bool(actor.is_admin)


def require_admin(actor) -> None:
    """The administrators' guard of the services: PermissionDenied for anyone else."""
    if not is_administrator(actor):
        raise PermissionDenied()


def can_use_local_password(user, *, local_passwords: bool) -> bool:
    """Whether ``user`` may log in with a local password: everyone while local passwords
    stay on (CAS_LOCAL_PASSWORDS), administrators always (the break-glass way in when the
    ΠΣΔ sign-in is down)."""
    return local_passwords or bool(getattr(user, "is_admin", False))


def admin_only(view=None, *, status: int = 404):
    """The administrators' guard of the web pages: log in first; anyone else gets ``status``
    (404 by default: there is nothing here for them; 403 where the section is known to
    them, as the census campaigns are to staff)."""
    def decorate(fn):
        @wraps(fn)
        @login_required
        def wrapped(*args, **kwargs):
            if not is_administrator(current_user):
                abort(status)
            return fn(*args, **kwargs)
        return wrapped

    return decorate(view) if view is not None else decorate


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
    if perm == Perm.CONFIRM:  # its own school's (can_view), until the request is closed
        return ticket.status == Status.RESOLVED and actor.is_school
    return False


def can_act_in_bulk(actor: User | None) -> bool:
    """The bulk actions of a queue (helpdesk.tickets.bulk): technicians, managers and
    administrators; each ticket is still checked with ``can`` by its service."""
    return _is_signed_in(actor) and bool(actor.is_admin or actor.is_staff)


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
    """A school files for itself; an administrator for any school; a technician or manager
    for a school of their area (``filing_school_ids``), on the school's behalf."""
    if _is_anonymous(actor) or not actor.is_active:
        return False
    if actor.is_admin or actor.is_school:
        return actor.is_admin or actor.school_id == school_id
    if actor.is_staff and actor.unit_ids:

        return db.session.scalar(select(School.id).where(
            School.id == school_id, School.id.in_(_served_school_ids(actor)))) is not None
    return False


def _stayed_at_any(ticket: Ticket, unit_ids: frozenset[int]) -> bool:
    """Did the ticket ever stay at one of these units: one query per loaded ticket and set
    of units, remembered on the instance (a page asks for a dozen permissions). Safe to
    remember: stays are never deleted, and a ticket that moves to one of these units is
    seen through ``unit_id`` before this is asked."""
    memo = ticket.__dict__.setdefault("_stayed_at_memo", {})
    if unit_ids not in memo:
        memo[unit_ids] = db.session.scalar(select(Ticket.id).where(
            Ticket.id == ticket.id, stayed_at_units(unit_ids))) is not None
    return memo[unit_ids]


def ticket_scope(actor: User | None):
    """The SQL condition on Ticket for what ``actor`` may see."""
    if _is_anonymous(actor) or not actor.is_active:
        return false()
    if actor.is_admin:
        return true()
    if actor.is_school:
        return Ticket.school_id == actor.school_id
    if actor.is_staff and actor.unit_ids:
        return stayed_at_units(actor.unit_ids)
    return false()


def scope_tickets(actor: User | None, stmt: Select) -> Select:
    """Restrict a select over Ticket to what ``actor`` may see."""
    return stmt.where(ticket_scope(actor))


def own_units_in_scope(actor: User | None) -> bool:
    """Whether every ticket now at one of ``actor``'s units is in ``ticket_scope(actor)``:
    true of active technicians and managers, whose scope is the tickets that are or were at
    their units. A select kept to ``Ticket.unit_id IN actor.unit_ids`` (a staff queue)
    then needs no scope condition as well; with one, PostgreSQL takes the scope's index
    and the unit's for independent, ANDs them, and reads 44,000 index entries for a queue
    of 1,000 tickets."""
    return (_is_signed_in(actor) and not actor.is_admin and not actor.is_school
            and actor.is_staff and bool(actor.unit_ids))


# --- the equipment registry -----------------------------------------------------------------

def _served_school_ids(actor: User):
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

        return db.session.scalar(select(School.id).where(
            School.id == school_id, School.id.in_(_served_school_ids(actor)))) is not None
    return False


def can_edit_school_equipment(actor: User | None, school_id: int | None) -> bool:
    """Whoever may see a school's registry keeps it current (the school, its units, admins)."""
    return can_view_school_equipment(actor, school_id)


def equipment_scope(actor: User | None):
    """The SQL condition on EquipmentItem for what ``actor`` may see."""
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
    return is_administrator(actor)


def can_manage_census(actor: User | None) -> bool:
    """Only administrators open census campaigns."""
    return is_administrator(actor)


def can_view_census_reports(actor: User | None) -> bool:
    """Administrators and staff see completion dashboards and procurement reports."""
    return (not _is_anonymous(actor) and actor.is_active
            and (actor.is_admin or actor.is_staff))


def can_use_census(actor: User | None) -> bool:
    """Schools (their campaigns) and staff and administrators (the dashboards) have a
    census section; nobody else."""
    return _is_signed_in(actor) and (actor.is_school or can_view_census_reports(actor))


def can_view_census(actor: User | None, census, *, now: datetime) -> bool:
    """A school sees a campaign once it has opened and only if it is one of its targets;
    staff and administrators see every campaign's dashboard."""
    if _is_signed_in(actor) and actor.is_school:
        return (census_rules.has_opened(census.opens_on, now)
                and census_targets(census, actor.school_id))
    return can_view_census_reports(actor)


def census_targets(census, school_id: int) -> bool:
    """The campaign is addressed to the school (its criteria match it)."""
    return bool(db.session.scalar(select(exists().where(School.id == school_id,
                                                        target_condition(census)))))


def census_school_ids(actor: User | None):
    """The schools whose census data ``actor`` may see: a select of ids, or None for all.

    Schools their own; staff the schools their units serve; administrators every school.
    """
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


def require_census_submit(actor: User | None, school_id: int) -> None:
    """Refuse a census submission ``can_submit_census_for`` does not allow: another
    school's campaign does not exist for a school (404); anyone else may not (403)."""
    if not can_submit_census_for(actor, school_id):
        if acts_for_school(actor):
            raise NotFound()
        raise PermissionDenied()


# --- webhooks -------------------------------------------------------------------------------

def can_manage_webhooks(actor: User | None) -> bool:
    """Only administrators subscribe, edit, pause, test and delete webhooks."""
    return is_administrator(actor)


def can_revoke_token(actor: User | None, token) -> bool:
    """An API token's owner revokes it; an administrator revokes anyone's."""
    return _is_signed_in(actor) and (token.user_id == actor.id or actor.is_admin)


# --- service levels ---------------------------------------------------------------------------

def can_manage_sla(actor: User | None) -> bool:
    """Only administrators set targets, overrides, calendars and holidays."""
    return is_administrator(actor)


# --- tickets: filing ---------------------------------------------------------------------------

def can_file_for_own_school(actor: User | None) -> bool:
    """A school account files a new request for itself (the "New request" page)."""
    return acts_for_school(actor) and can_file_for(actor, actor.school_id)


def can_file_on_behalf(actor: User | None) -> bool:
    """Technicians, managers and administrators file for a school (the "New request for a
    school" page: a phone call, a visit); each for the schools ``filing_school_ids`` gives."""
    return _is_signed_in(actor) and (actor.is_admin or (actor.is_staff and bool(actor.unit_ids)))


def filing_school_ids(actor: User | None):
    """The schools ``actor`` may file for on their behalf: a select of ids, or None for all.

    A unit's area is the schools whose chain includes it at its level (a level-1 unit its
    directorate's schools, a level-2 partner its partner area, level 3 every school);
    administrators file for any school; schools and strangers for none here."""

    if not can_file_on_behalf(actor):
        return select(School.id).where(false())
    if actor.is_admin:
        return None
    return _served_school_ids(actor)


# --- reports -------------------------------------------------------------------------------------

def can_view_reports(actor: User | None) -> bool:
    """Staff and administrators have reports; schools and strangers do not."""
    return _is_signed_in(actor) and (actor.is_admin or actor.is_staff)


def report_scope(actor: User | None):
    """The SQL condition on Ticket for what ``actor`` may report on.

    Administrators see everything; a unit manager the tickets that are or were at the
    units they manage; a technician what ``ticket_scope`` lets them see. Schools have no
    reports (PermissionDenied).
    """
    if not _is_signed_in(actor):
        return false()
    if not can_view_reports(actor):
        raise PermissionDenied()
    scope = ticket_scope(actor)
    managed = actor.managed_unit_ids
    if actor.role == Role.MANAGER and managed:
        scope = and_(scope, exists().where(TicketStay.ticket_id == Ticket.id,
                                           TicketStay.unit_id.in_(sorted(managed))))
    return scope


# --- organisation (API) -----------------------------------------------------------------------

def school_scope(actor: User | None):
    """The SQL condition on School for the schools an actor may see: its own, those its
    units serve, or None for all (administrators)."""
    if actor.is_admin:
        return None
    if actor.is_school:
        return School.id == actor.school_id
    return School.id.in_(schools_served_by_units(actor.unit_ids))


# --- equipment imports --------------------------------------------------------------------------

def can_import_equipment(actor: User | None) -> bool:
    """Schools, staff and administrators import registries (each into what
    ``import_school_ids`` allows)."""
    return _is_signed_in(actor) and (actor.is_school or actor.is_staff or actor.is_admin)


def can_view_import(actor: User | None, run) -> bool:
    """An import run is seen by whoever started it and by administrators."""
    return actor is not None and run is not None and (actor.is_admin or run.created_by_id == actor.id)


# --- people and the support organisation (issue 14) ---------------------------------------------

def _is_manager(actor) -> bool:

    return _is_signed_in(actor) and actor.role == Role.MANAGER and bool(actor.managed_unit_ids)


def _is_school_account(actor) -> bool:

    return _is_signed_in(actor) and actor.role == Role.SCHOOL and actor.school_id is not None


def can_manage_people(actor) -> bool:
    """Who has the people pages: administrators (everyone), unit managers (the people of
    their units) and school accounts (the co-users of their own school: its teachers)."""
    return is_administrator(actor) or _is_manager(actor) or _is_school_account(actor)


def people_scope(actor):
    """The SQL condition on User for the people ``actor`` may see on the people pages."""

    if is_administrator(actor):
        return true()
    if _is_manager(actor):
        return exists().where(UnitMembership.user_id == User.id,
                              UnitMembership.unit_id.in_(sorted(actor.unit_ids)))
    if _is_school_account(actor):
        return (User.school_id == actor.school_id) & (User.role == Role.SCHOOL)
    return false()


def can_view_person(actor, person) -> bool:
    """May ``actor`` open ``person``'s page (the same rule as ``people_scope``)."""
    if person is None or not can_manage_people(actor):
        return False
    if is_administrator(actor):
        return True
    if _is_manager(actor):
        return bool(person.unit_ids & actor.unit_ids)
    return person.is_school and person.school_id == actor.school_id


def can_edit_person(actor, person) -> bool:
    """May ``actor`` change ``person`` (details, activity, memberships): administrators
    anyone; a manager staff whose every unit is one of theirs and who manage no unit the
    manager does not; a school account its co-users (not itself)."""
    if not can_view_person(actor, person):
        return False
    if is_administrator(actor):
        return True
    if _is_manager(actor):
        return (person.is_staff and person.unit_ids <= actor.unit_ids
                and person.managed_unit_ids <= actor.managed_unit_ids)
    return person.id != actor.id


def grantable_roles(actor) -> tuple[str, ...]:
    """The roles ``actor`` may give: never more than it holds."""

    if is_administrator(actor):
        return tuple(r.value for r in Role)
    if _is_manager(actor):
        return (Role.TECHNICIAN.value, Role.MANAGER.value)
    if _is_school_account(actor):
        return (Role.SCHOOL.value,)
    return ()


def may_grant(actor, *, role: str, school_id: int | None = None,
              units: dict[int, bool] | None = None) -> bool:
    """May ``actor`` make someone ``role`` (of ``school_id``) with these memberships
    ({unit id: manager flag}): a manager gives no administrator or school role, no unit
    outside theirs and no manager flag outside the units they manage; a school only its
    own co-users; an administrator anything."""
    units = units or {}
    if role not in grantable_roles(actor):
        return False
    if is_administrator(actor):
        return True
    if _is_manager(actor):
        return (set(units) <= actor.unit_ids
                and {u for u, flag in units.items() if flag} <= actor.managed_unit_ids)
    return not units and school_id == actor.school_id


def keeps_an_administrator(person, *, becomes_admin: bool, becomes_active: bool,
                           other_active_admins: int) -> bool:
    """A change to ``person`` may not leave the helpdesk without an active administrator
    (deactivating or demoting the last one)."""

    was_active_admin = person.role == Role.ADMIN and person.is_active_account
    stays = becomes_admin and becomes_active
    return not was_active_admin or stays or other_active_admins > 0


def count_other_active_admins(person) -> int:
    """Active administrators other than ``person`` (for ``keeps_an_administrator``)."""


    return db.session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.is_active_account.is_(True), User.id != person.id)) or 0


def can_view_organisation(actor) -> bool:
    """Administrators and unit managers see the support organisation."""
    return is_administrator(actor) or _is_manager(actor)


def can_change_partner(actor) -> bool:
    """Only administrators change which partner serves a directorate."""
    return is_administrator(actor)


# --- known outages (incidents, issue 15) ---------------------------------------------------------

def _unit_levels(actor) -> dict[int, tuple[int, int | None]]:
    """{unit id: (level, directorate id)} of the actor's units (one query, remembered)."""
    memo = actor.__dict__.get("_unit_levels_memo")
    if memo is None:
        ids = sorted(actor.unit_ids)
        memo = {} if not ids else {u: (lv, d) for u, lv, d in db.session.execute(
            select(SupportUnit.id, SupportUnit.level, SupportUnit.directorate_id)
            .where(SupportUnit.id.in_(ids)))}
        actor.__dict__["_unit_levels_memo"] = memo
    return memo


def can_manage_incidents(actor) -> bool:
    """Who declares and updates known outages: administrators, managers and technicians of
    any level (level 1 only within its directorate: ``incident_directorates``)."""
    return _is_signed_in(actor) and (actor.is_admin or (actor.is_staff and bool(actor.unit_ids)))


def incident_directorates(actor) -> frozenset[int] | None:
    """The directorates bounding the incidents ``actor`` may declare and update: None (no
    bound) for administrators, managers and technicians of a level-2 or level-3 unit; a
    level-1 technician's own directorates otherwise."""
    if actor.is_admin or actor.role == Role.MANAGER:
        return None
    levels = _unit_levels(actor)
    if any(level >= 2 for level, _d in levels.values()):
        return None
    return frozenset(d for level, d in levels.values() if level == 1 and d is not None)


def can_open_incident(actor, scope_directorates: frozenset[int] | None) -> bool:
    """May ``actor`` declare an incident whose scope spans ``scope_directorates`` (None: a
    scope wider than directorates: the country, a region, a partner's area)."""
    return can_manage_incidents(actor) and incident_rules.within(
        scope_directorates, incident_directorates(actor))


def incident_scope_directorates(incident: Incident) -> frozenset[int] | None:
    """The directorates an incident's scope spans, None when it is wider (one query)."""
    kind = incident.scope_kind
    if kind in (incident_rules.ScopeKind.COUNTRY, incident_rules.ScopeKind.REGIONS,
                incident_rules.ScopeKind.PARTNERS):
        return None
    rows = select(IncidentScope.ref_id).where(IncidentScope.incident_id == incident.id)
    if kind == incident_rules.ScopeKind.DIRECTORATES:
        return frozenset(db.session.scalars(rows))
    return frozenset(db.session.scalars(select(School.directorate_id).distinct()
                                        .where(School.id.in_(rows))))


def scope_directorates_of(kind: str, ids) -> frozenset[int] | None:
    """``incident_scope_directorates`` of a scope not yet stored (the creation form)."""
    if kind == incident_rules.ScopeKind.DIRECTORATES:
        return frozenset(ids)
    if kind == incident_rules.ScopeKind.SCHOOLS:
        return frozenset(db.session.scalars(select(School.directorate_id).distinct()
                                            .where(School.id.in_(list(ids)))))
    return None


def can_update_incident(actor, incident: Incident) -> bool:
    """Post an update (and resolve), unlink tickets: those who may declare its scope."""
    if not can_manage_incidents(actor):
        return False
    own = incident_directorates(actor)
    return own is None or incident_rules.within(incident_scope_directorates(incident), own)


def can_link_to_incident(actor, incident: Incident, ticket: Ticket) -> bool:
    """A technician who works an open ticket (at its unit) links it to an open incident,
    whoever declared it; an administrator any open ticket."""
    return (incident_rules.is_open(incident.status) and can_manage_incidents(actor)
            and can(actor, Perm.RESOLVE, ticket))


def can_unlink_from_incident(actor, incident: Incident, ticket: Ticket) -> bool:
    """Whoever may link the ticket, or update the incident (and sees the ticket)."""
    if not incident_rules.is_open(incident.status) or not can_view(actor, ticket):
        return False
    return can(actor, Perm.RESOLVE, ticket) or can_update_incident(actor, incident)


def can_say_affected(actor, incident: Incident, *, in_scope: bool) -> bool:
    """A school of the incident's scope says "we are affected too" while it is open."""
    return (in_scope and incident_rules.is_open(incident.status)
            and can_file_for_own_school(actor))


def school_place(school_id: int) -> incident_rules.Place | None:
    """Where a school is, for incident_rules.covers (one query)."""
    rows = db.session.execute(
        select(School.id, School.directorate_id, Directorate.region_id, PartnerArea.unit_id)
        .join(Directorate, Directorate.id == School.directorate_id)
        .outerjoin(PartnerArea, PartnerArea.directorate_id == School.directorate_id)
        .where(School.id == school_id)).all()
    if not rows:
        return None
    sid, did, rid, _p = rows[0]
    return incident_rules.Place(sid, did, rid, frozenset(p for *_x, p in rows if p is not None))


# --- canned replies and saved views (issue 15) ---------------------------------------------------

def can_use_canned_replies(actor) -> bool:
    """Technicians, managers (of some unit) and administrators insert canned replies and see
    the list of them; schools and strangers do not."""
    return _is_signed_in(actor) and (actor.is_admin or (actor.is_staff and bool(actor.unit_ids)))


def canned_reply_scope(actor):
    """The SQL condition on CannedReply for the replies ``actor`` may see and insert: the
    shared (national) ones and those of the actor's units; every one for administrators."""
    if not can_use_canned_replies(actor):
        return false()
    if actor.is_admin:
        return true()
    return or_(CannedReply.unit_id.is_(None), CannedReply.unit_id.in_(sorted(actor.unit_ids)))


def _manages_national_unit(actor) -> bool:
    """A manager of a level-3 unit (Διόφαντος): the keepers of what every unit shares."""
    managed = actor.managed_unit_ids
    return bool(managed) and bool(db.session.scalar(select(exists().where(
        SupportUnit.id.in_(sorted(managed)), SupportUnit.level == 3))))


def can_edit_canned_reply(actor, unit_id: int | None) -> bool:
    """Who writes, changes and deletes the canned replies of ``unit_id`` (None: the shared,
    national ones): administrators any; a unit's managers their unit's; the managers of a
    level-3 unit the shared ones too. Technicians use them and suggest changes to them."""
    if not can_use_canned_replies(actor):
        return False
    if actor.is_admin:
        return True
    if unit_id is None:
        return _manages_national_unit(actor)
    return unit_id in actor.managed_unit_ids


def may_write_canned_replies(actor) -> bool:
    """``actor`` may write some canned reply (shows the "new" button)."""
    return can_use_canned_replies(actor) and (actor.is_admin or bool(actor.managed_unit_ids))


def can_keep_saved_views(actor) -> bool:
    """Everyone signed in keeps their own saved queue filters ("my views")."""
    return _is_signed_in(actor)


def can_change_saved_view(actor, view) -> bool:
    """A saved view is its owner's alone: only they see, rename or delete it."""
    return can_keep_saved_views(actor) and view is not None and view.user_id == actor.id


# --- the library of guides (helpdesk/kb) ----------------------------------------------------

def kb_audiences(actor) -> tuple[str, ...]:
    """The audiences of the articles ``actor`` may read: everyone reads the public ones,
    schools also the schools' ones, staff and administrators all."""
    if _is_signed_in(actor) and (actor.is_staff or actor.is_admin):
        return (KbAudience.PUBLIC, KbAudience.SCHOOLS, KbAudience.STAFF)
    if _is_signed_in(actor) and actor.is_school:
        return (KbAudience.PUBLIC, KbAudience.SCHOOLS)
    return (KbAudience.PUBLIC,)


def kb_owner_units(actor) -> frozenset[int] | None:
    """The units whose own articles ``actor`` may write: None for all (administrators),
    else the actor's level-2/3 units and the units it manages."""
    if not _is_signed_in(actor):
        return frozenset()
    if actor.is_admin:
        return None
    if not actor.is_staff:
        return frozenset()
    return frozenset(m.unit_id for m in actor.memberships
                     if m.is_manager or m.unit.level >= 2)


def can_author_kb(actor) -> bool:
    """Level-2/3 staff, units' managers and administrators write articles."""
    units = kb_owner_units(actor)
    return units is None or bool(units)


def can_write_kb_for(actor, owner_unit_id: int | None) -> bool:
    """May ``actor`` write an article kept by ``owner_unit_id`` (None: shared by all)."""
    units = kb_owner_units(actor)
    if units is None:
        return True
    if owner_unit_id is None:
        return bool(units)
    return owner_unit_id in units


def can_edit_kb_article(actor, article) -> bool:
    """A unit's own article is edited by that unit's members and managers (and
    administrators); a shared one by every author."""
    if not _is_signed_in(actor):
        return False
    if actor.is_admin:
        return True
    if article.owner_unit_id is not None:
        return actor.is_staff and article.owner_unit_id in actor.unit_ids
    return can_author_kb(actor)


def can_view_kb_article(actor, article) -> bool:
    """Published articles of the actor's audiences; drafts only to who may edit them."""
    if article.status == KbStatus.PUBLISHED and article.audience in kb_audiences(actor):
        return True
    return can_edit_kb_article(actor, article)


def kb_scope(actor):
    """The SQL condition on KbArticle for the articles ``actor`` may read in lists and
    searches: the published ones of its audiences (drafts are found by their authors on
    the "drafts" list, ``kb_drafts_scope``)."""
    return and_(KbArticle.status == KbStatus.PUBLISHED,
                KbArticle.audience.in_([str(a) for a in kb_audiences(actor)]))


def kb_drafts_scope(actor):
    """The SQL condition on KbArticle for the drafts ``actor`` may see (and edit)."""
    if not _is_signed_in(actor):
        return false()
    drafts = KbArticle.status == KbStatus.DRAFT
    if actor.is_admin:
        return drafts
    own = (KbArticle.owner_unit_id.in_(actor.unit_ids) if actor.is_staff and actor.unit_ids
           else false())
    shared = KbArticle.owner_unit_id.is_(None) if can_author_kb(actor) else false()
    return and_(drafts, or_(own, shared))


def require_kb_edit(actor, article) -> None:
    """The services' guard: NotFound when the actor may not even read the article,
    PermissionDenied when it may read but not edit it."""
    if can_edit_kb_article(actor, article):
        return
    raise PermissionDenied() if can_view_kb_article(actor, article) else NotFound()


def can_use_kb_in_tickets(actor) -> bool:
    """Staff and administrators insert guides in replies, resolve by a guide and see how
    many tickets used an article; schools and strangers do not."""
    return _is_signed_in(actor) and (actor.is_admin or actor.is_staff)


def can_get_kb_suggestions(actor) -> bool:
    """A school filing its own request is shown guides, and may say one solved it."""
    return can_file_for_own_school(actor)


def deflection_scope(actor, school_id_column):
    """The SQL condition on a school column for the deflections ``actor`` may report on:
    administrators all, staff those of the schools their units serve."""
    if not _is_signed_in(actor):
        return false()
    if not can_view_reports(actor):
        raise PermissionDenied()
    if actor.is_admin:
        return true()
    return school_id_column.in_(schools_served_by_units(actor.unit_ids))


# --- templates ------------------------------------------------------------------------------------

#: The functions templates ask (``{% if can_view_reports(current_user) %}``).
TEMPLATE_HELPERS = (acts_for_school, can_view_reports, can_use_census, can_manage_mail,
                    can_manage_sla, can_manage_webhooks, can_file_for_own_school,
                    can_manage_people, can_edit_person, can_view_organisation,
                    can_change_partner, can_file_on_behalf, can_manage_incidents,
                    can_author_kb, can_use_canned_replies, can_edit_canned_reply,
                    may_write_canned_replies, can_use_kb_in_tickets)


def register(app) -> None:
    """Give the templates the permission functions, so no template reads a role."""
    app.jinja_env.globals.update({f.__name__: f for f in TEMPLATE_HELPERS})
