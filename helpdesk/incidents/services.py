"""Incident writers: declare, update, resolve, link and unlink (flush, never commit).

Every function takes the actor and ``now`` and asks helpdesk.permissions. They write
rows and record events (helpdesk.events.Incident*); the handlers (helpdesk.handlers) turn
them into webhook deliveries and the schools' mail. An update reaches the linked tickets
through the RQ job ``workers.incident_jobs.post_update`` (queue ``bulk``), which calls
``post_batch`` once per transaction until it returns False: each batch (rules.BATCH_SIZE
tickets) writes the update on its tickets, resolves them when the update resolves the
incident, recomputes their SLA at once, records which schools it reached (one mail per
school per update: helpdesk.notify.handlers.incident_mail, deduplicated by key), and moves
the update's cursor. A worker that dies loses one batch's transaction and the next run
(the job again, or the ``incident-sweep``) starts after the cursor.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk import bus, events
from helpdesk.accounts.system import SYSTEM
from helpdesk.core import aftercommit, bulk
from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db
from helpdesk.incidents import rules
from helpdesk.incidents.models import Incident, IncidentLink, IncidentScope, IncidentUpdate
from helpdesk.org.models import (
    Category,
    Directorate,
    Region,
    ResolutionType,
    School,
    SupportUnit,
)
from helpdesk.permissions import (
    can_link_to_incident,
    can_manage_incidents,
    can_open_incident,
    can_say_affected,
    can_unlink_from_incident,
    can_update_incident,
    can_view,
    school_place,
    scope_directorates_of,
    scope_tickets,
)
from helpdesk.sla import clock
from helpdesk.sla import services as sla
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.queries import parse_ref
from helpdesk.tickets.states import OPEN_STATUSES

TITLE_MAX = 200
BODY_MAX = 5000
#: At most this many tickets in one bulk link (the queue's page, a pasted list).
BULK_MAX = 5000
#: The RQ job that posts an update to the linked tickets.
JOB = "workers.incident_jobs.post_update"


def update_job(update_id: int) -> aftercommit.Job:
    return aftercommit.Job("bulk", JOB, (update_id,), job_id=f"incident-update-{update_id}",
                           timeout=3600, result_ttl=0, failure_ttl=86400, owner=__name__,
                           what="incident update",
                           fallback="the incident sweep will post it")


def _text(name: str, value: str | None, *, minimum: int, maximum: int) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if len(value) < minimum:
        raise ValidationFailed(name, "This field is required (at least %(n)s characters).",
                               n=minimum)
    if len(value) > maximum:
        raise ValidationFailed(name, "This field is too long (at most %(n)s characters).",
                               n=maximum)
    return value


# --- scope ---------------------------------------------------------------------------------

_SCOPE_TABLES = {rules.ScopeKind.REGIONS: Region, rules.ScopeKind.DIRECTORATES: Directorate,
                 rules.ScopeKind.SCHOOLS: School, rules.ScopeKind.PARTNERS: SupportUnit}


def scope_of(incident: Incident) -> rules.Scope:
    return rules.Scope(rules.ScopeKind(incident.scope_kind),
                       frozenset(s.ref_id for s in incident.scope))


def _checked_scope(kind: str, ids) -> rules.Scope:
    """The scope, its places existing (a partner: a level-2 unit), or ValidationFailed."""
    try:
        scope = rules.make_scope(kind, ids)
    except (rules.BadScope, TypeError, ValueError):
        raise ValidationFailed("scope", "Choose where the outage is: the whole country, or at "
                               "least one region, directorate, partner or school.") from None
    if scope.kind == rules.ScopeKind.COUNTRY:
        return scope
    table = _SCOPE_TABLES[scope.kind]
    stmt = select(table.id).where(table.id.in_(sorted(scope.ids)))
    if table is SupportUnit:
        stmt = stmt.where(SupportUnit.level == 2)
    if len(set(db.session.scalars(stmt))) != len(scope.ids):
        raise ValidationFailed("scope", "Some of the chosen places do not exist.")
    return scope


def covers_school(incident: Incident, school_id: int) -> bool:
    place = school_place(school_id)
    return place is not None and rules.covers(scope_of(incident), place)


# --- declaring and updating ------------------------------------------------------------------

def open_incident(actor, *, title: str, body: str, scope_kind: str, scope_ids, category,
                  now: datetime, from_ticket: Ticket | None = None) -> Incident:
    """Declare a known outage with its first timeline entry (status investigating); a
    ticket it is declared from is linked to it."""
    if not can_manage_incidents(actor):
        raise PermissionDenied()
    title = _text("title", title, minimum=5, maximum=TITLE_MAX)
    body = _text("body", body, minimum=5, maximum=BODY_MAX)
    scope = _checked_scope(scope_kind, scope_ids)
    if not can_open_incident(actor, scope_directorates_of(scope.kind, scope.ids)):
        raise PermissionDenied(_l("You may declare outages of your own directorate only."))
    if category is None or not category.is_active:
        raise ValidationFailed("category", "Unknown category.")
    if from_ticket is not None and not can_view(actor, from_ticket):
        raise NotFound()
    incident = Incident(title=title, status=rules.Status.INVESTIGATING, scope_kind=scope.kind,
                        category_id=category.id, created_by_id=actor.id, created_at=now,
                        updated_at=now,
                        origin_ticket_id=from_ticket.id if from_ticket is not None else None)
    db.session.add(incident)
    db.session.flush()
    if scope.kind != rules.ScopeKind.COUNTRY:
        row_kind = rules.ROW_KIND[scope.kind]
        db.session.add_all(IncidentScope(incident_id=incident.id, kind=row_kind, ref_id=i)
                           for i in sorted(scope.ids))
    update = IncidentUpdate(incident_id=incident.id, body=body, status=incident.status,
                            author_id=actor.id, created_at=now)
    db.session.add(update)
    db.session.flush()
    bus.record(events.IncidentCreated(incident.id, update.id, now))
    if from_ticket is not None:
        result = link(actor, incident, [from_ticket], now=now)
        if result.refused:
            raise Conflict(result.refused[0][1])
    aftercommit.after_commit(update_job(update.id))
    return incident


def post_update(actor, incident: Incident, *, body: str, status: str,
                now: datetime) -> IncidentUpdate:
    """A timeline entry, with the status it sets (or keeps); posted to every linked ticket
    by the job; ``resolved`` resolves them."""
    if not can_update_incident(actor, incident):
        raise PermissionDenied()
    body = _text("body", body, minimum=5, maximum=BODY_MAX)
    try:
        new = rules.next_status(incident.status, status)
    except rules.IllegalTransition:
        raise Conflict(_l("A resolved outage takes no more updates; declare a new one.")) \
            from None
    update = IncidentUpdate(incident_id=incident.id, body=body, status=new, author_id=actor.id,
                            created_at=now)
    db.session.add(update)
    incident.status, incident.updated_at = new, now
    if new == rules.Status.RESOLVED:
        incident.resolved_at = now
    db.session.flush()
    kind = events.IncidentResolved if new == rules.Status.RESOLVED else events.IncidentUpdated
    bus.record(kind(incident.id, update.id, now))
    aftercommit.after_commit(update_job(update.id))
    return update


# --- linking ---------------------------------------------------------------------------------

@dataclass
class LinkResult:
    linked: list[str] = field(default_factory=list)
    #: (reference or what was given, why)
    refused: list[tuple[str, str]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


def link(actor, incident: Incident, chosen: list[Ticket], *, now: datetime,
         checked: bool = False) -> LinkResult:
    """Link tickets to the incident: each one the actor works (``checked``: the caller has
    asked permission another way: a school saying it is affected). A ticket linked to
    another incident is refused; one linked here already is left as it is."""
    if not rules.is_open(incident.status):
        return LinkResult(refused=[(t.ref, _("the outage is resolved")) for t in chosen])
    result = LinkResult()
    allowed = []
    for ticket in chosen:
        if checked or can_link_to_incident(actor, incident, ticket):
            allowed.append(ticket)
        else:
            result.refused.append((ticket.ref, _("you may not link this request")))
    ids = [t.id for t in allowed]
    current = dict(db.session.execute(
        select(IncidentLink.ticket_id, IncidentLink.incident_id)
        .where(IncidentLink.ticket_id.in_(ids), IncidentLink.unlinked_at.is_(None))).all()) \
        if ids else {}
    earlier = {row.ticket_id: row for row in db.session.scalars(
        select(IncidentLink).where(IncidentLink.incident_id == incident.id,
                                   IncidentLink.ticket_id.in_(ids)))} if ids else {}
    changed, new_links = [], []
    actor_id = getattr(actor, "id", None)
    with bus.paused():  # a link tells nobody: no mail per ticket
        for ticket in allowed:
            other = current.get(ticket.id)
            if other == incident.id:
                result.already.append(ticket.ref)
                continue
            if other is not None:
                result.refused.append((ticket.ref, _("already linked to outage #%(id)s",
                                                     id=other)))
                continue
            row = earlier.get(ticket.id)
            if row is None:
                new_links.append(dict(incident_id=incident.id, ticket_id=ticket.id,
                                      school_id=ticket.school_id, linked_at=now,
                                      linked_by_id=actor_id))
            else:
                row.linked_at, row.linked_by_id = now, actor_id
                row.unlinked_at = row.unlinked_by_id = None
            changed.append(ticket)
            result.linked.append(ticket.ref)
        if new_links:  # one INSERT for the batch
            bulk.insert_rows(db.session, IncidentLink.__table__, new_links)
        tickets.mark_incident_many(actor, changed, incident.id, now=now)
        _refresh_sla(changed, now)
    return result


def bulk_link(actor, incident: Incident, ticket_ids, *, now: datetime) -> LinkResult:
    """``link`` many tickets by id (those the actor may see), rules.BATCH_SIZE at a time."""
    ids = sorted({int(i) for i in ticket_ids})
    if len(ids) > BULK_MAX:
        raise ValidationFailed("tickets", "At most %(n)s requests at a time.", n=BULK_MAX)
    result = LinkResult()
    for start in range(0, len(ids), rules.BATCH_SIZE):
        chunk = ids[start:start + rules.BATCH_SIZE]
        found = list(db.session.scalars(scope_tickets(actor, select(Ticket).where(
            Ticket.id.in_(chunk))).options(joinedload(Ticket.category)).order_by(Ticket.id)))
        missing = set(chunk) - {t.id for t in found}
        result.refused += [(str(i), _("not found")) for i in sorted(missing)]
        part = link(actor, incident, found, now=now)
        result.linked += part.linked
        result.refused += part.refused
        result.already += part.already
    return result


_REF_SPLIT = re.compile(r"[\s,;]+")


def link_refs(actor, incident: Incident, text: str, *, now: datetime) -> LinkResult:
    """``bulk_link`` the references written in ``text`` (one per line, or separated by
    spaces or commas; ΑΡ-2026-000123 or AR-2026-123)."""
    words = [w for w in _REF_SPLIT.split(text or "") if w][:BULK_MAX + 1]
    if not words:
        raise ValidationFailed("refs", "Write at least one request reference.")
    ids, bad = [], []
    for word in words:
        parsed = parse_ref(word)
        if parsed:
            ids.append(parsed[1])
        else:
            bad.append(word)
    result = bulk_link(actor, incident, ids, now=now)
    result.refused = [(w[:40], _("not a request reference")) for w in bad] + result.refused
    return result


def unlink(actor, incident: Incident, ticket: Ticket, *, now: datetime) -> None:
    """Take a ticket out of the incident: its SLA clocks run again, and the incident's
    updates and resolution pass it by."""
    if not can_view(actor, ticket):
        raise NotFound()
    if not can_unlink_from_incident(actor, incident, ticket):
        raise PermissionDenied()
    row = db.session.scalar(select(IncidentLink).where(
        IncidentLink.incident_id == incident.id, IncidentLink.ticket_id == ticket.id,
        IncidentLink.unlinked_at.is_(None)))
    if row is None:
        raise Conflict(_l("The request is not linked to this outage."))
    row.unlinked_at, row.unlinked_by_id = now, actor.id
    with bus.paused():
        tickets.mark_incident(actor, ticket, None, previous=incident.id, now=now)
        db.session.flush()


def say_affected(actor, incident: Incident, *, now: datetime,
                 ticket: Ticket | None = None) -> Ticket:
    """A school of the scope says "we are affected too": its open request ``ticket`` is
    linked, or a request is filed for it (subject: the incident's title) and linked."""
    in_scope = bool(getattr(actor, "school_id", None)) and covers_school(incident,
                                                                         actor.school_id)
    if not can_say_affected(actor, incident, in_scope=in_scope):
        raise PermissionDenied()
    if ticket is not None:
        if ticket.school_id != actor.school_id:
            raise NotFound()
        if ticket.status not in OPEN_STATUSES:
            raise ValidationFailed("ticket", "Choose one of your open requests.")
    else:
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "el")):
            description = _("Our school is affected by the known outage “%(title)s” "
                            "(outage #%(id)s).", title=incident.title, id=incident.id)
        ticket = tickets.open_ticket(actor, school=actor.school, category=incident.category,
                                     subject=incident.title[:200], description=description,
                                     now=now)
    result = link(actor, incident, [ticket], now=now, checked=True)
    if result.refused:
        raise Conflict(result.refused[0][1])
    return ticket


# --- the update job's batches -----------------------------------------------------------------

def post_batch(update_id: int, *, now: datetime, batch_size: int = rules.BATCH_SIZE) -> bool:
    """Post the update to the next ``batch_size`` linked tickets after its cursor (and
    resolve them if it resolves the incident); True while tickets remain. The update's
    row is locked for the batch (PostgreSQL), so two runners never post the same batch."""
    stmt = select(IncidentUpdate).where(IncidentUpdate.id == update_id) \
        .execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    update = db.session.scalar(stmt)
    if update is None or update.done_at is not None:
        return False
    rows = db.session.execute(
        select(IncidentLink.ticket_id, IncidentLink.school_id)
        .where(IncidentLink.incident_id == update.incident_id,
               IncidentLink.unlinked_at.is_(None), IncidentLink.linked_at <= update.created_at,
               IncidentLink.ticket_id > update.cursor)
        .order_by(IncidentLink.ticket_id).limit(batch_size)).all()
    if not rows:
        update.done_at = now
        db.session.flush()
        return False
    ids = [t for t, _s in rows]
    actor = update.author if update.author is not None else SYSTEM
    resolution = tickets.IncidentResolution(_resolution_type(), _sla_of_batch) \
        if update.status == rules.Status.RESOLVED else None
    with bus.paused():  # the schools are told once each below, not once per ticket
        tickets.post_incident_update(actor, ids, update.incident_id, update.body, now=now,
                                     resolution=resolution)
    bus.record(events.IncidentUpdateReachedSchools(
        update.id, tuple(sorted({s for _t, s in rows})), now))
    update.cursor = ids[-1]
    update.tickets_done += len(ids)
    if len(ids) < batch_size:
        update.done_at = now
    db.session.flush()
    return update.done_at is None


def pending_updates(limit: int = 100) -> list[int]:
    """The updates whose job has not finished (for the sweep), oldest first."""
    return list(db.session.scalars(select(IncidentUpdate.id).where(
        IncidentUpdate.done_at.is_(None)).order_by(IncidentUpdate.created_at).limit(limit)))


def _resolution_type() -> ResolutionType:
    code = current_app.config.get("INCIDENT_RESOLUTION_TYPE", "REMOTE")
    found = db.session.scalar(select(ResolutionType).where(ResolutionType.code == code))
    if found is None:
        found = db.session.scalar(select(ResolutionType).order_by(ResolutionType.id))
    return found


def _refresh_sla(batch: list[Ticket], now: datetime) -> None:
    """Recompute the stored SLA of a batch of tickets from their stored history, with the
    events of the batch read in one query; the flush writes each ticket once (its SLA and
    last change together)."""
    if not batch:
        return
    ctx = sla.SlaContext.load()
    with db.session.no_autoflush:  # the tickets' last change is flushed with their SLA
        rows = sla.event_rows([t.id for t in batch])
    for ticket in batch:
        sla.recompute(ticket, rows.get(ticket.id, []), ctx, now)
    db.session.flush()


def _sla_of_batch(facts: list[dict], new_events: dict[int, list[tuple]],
                  now: datetime) -> dict[int, dict]:
    """The SLA columns of a batch the job changes with bulk statements (tickets'
    post_incident_update): its stored history read in one query, the events being written
    added after it, and the pure clock (no ORM objects: a batch of the job is a short
    transaction)."""
    categories = {c.id: c for c in db.session.scalars(select(Category))}
    history = sla.event_rows([f["id"] for f in facts])
    ctx = sla.SlaContext.load()
    out = {}
    for fact in facts:
        ticket = SimpleNamespace(**fact, category=categories.get(fact["category_id"]))
        added = [clock.Event(*e) for e in new_events.get(fact["id"], [])]
        result, _policy = sla.compute(ticket, history.get(fact["id"], []) + added, ctx, now)
        sla.apply_result(ticket, result)
        out[fact["id"]] = {c: getattr(ticket, c) for c in tickets.SLA_COLUMNS}
    return out


def get_category(category_id) -> Category | None:
    return db.session.get(Category, category_id) if category_id else None
