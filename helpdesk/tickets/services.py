"""Ticket writers, shared by the web, e-mail, API, jobs and CLI.

Every function takes the actor and ``now`` explicitly, checks permission through
helpdesk.permissions, flushes and never commits. Status, level/unit and assignee each
have one writer below, and every change writes a TicketEvent.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    literal,
    select,
)

from helpdesk.accounts.models import UnitMembership, User
from helpdesk.accounts.system import SYSTEM, SystemActor
from helpdesk.core import bulk, filestore
from helpdesk.core.display import EVENT_LABELS, STATUS_LABELS
from helpdesk.core.errors import Conflict, PermissionDenied, ValidationFailed
from helpdesk.core.localtime import zone
from helpdesk.core.text import fold
from helpdesk.core.types import UTCDateTime
from helpdesk.extensions import db
from helpdesk.org import routing
from helpdesk.org.models import Category, ResolutionType, School
from helpdesk.org.queries import chain_for_school
from helpdesk.permissions import (
    Perm,
    acts_for_school,
    can_file_for,
    is_system,
    require,
    works_at_units,
)
from helpdesk.tickets import attachments as files
from helpdesk.tickets import reasons, search, visibility
from helpdesk.tickets.models import Attachment, Message, Ticket, TicketEvent, TicketStay
from helpdesk.tickets.states import (
    ON_BEHALF_CHANNELS,
    RATINGS,
    Action,
    Channel,
    IllegalTransition,
    Priority,
    Status,
    next_status,
)

SUBJECT_MAX = 200
BODY_MAX = 20000


# --- recording -------------------------------------------------------------------------

def _record(ticket, actor, now, kind, field=None, old=None, new=None, reason=None,
            *, internal=False, shared: bool | None = None, code: str | None = None,
            params: dict | None = None) -> TicketEvent:
    """Write one event. ``shared``: the school reads its reason too (None: the default of
    its kind, helpdesk.tickets.visibility); ``code``/``params``: a machine-written reason."""
    if shared is None:
        shared = visibility.is_shared_by_default(kind, is_internal=internal)
    event = TicketEvent(
        ticket_id=ticket.id, actor_id=actor.id if actor else None, at=now, kind=kind,
        actor_email=_address_actor(actor),
        field=field, old_value=None if old is None else str(old),
        new_value=None if new is None else str(new), reason=reason, is_internal=internal,
        is_shared_with_school=bool(shared) and not internal, reason_code=code,
        reason_params=params,
    )
    db.session.add(event)
    ticket.updated_at = now
    return event


def _address_actor(actor) -> str | None:
    """The address of a school acting without an account (mail.queries.SchoolAddress)."""
    if actor is None or actor.id is not None or not acts_for_school(actor):
        return None
    return (getattr(actor, "email", None) or None) and actor.email[:200]


def _set_status(ticket: Ticket, action: Action, actor, now, reason=None, **why) -> None:
    """The one writer of Ticket.status: through the transition table.

    ``why``: ``shared``, ``code``, ``params`` of the reason (see _record)."""
    try:
        new = next_status(ticket.status, action)
    except IllegalTransition as exc:
        raise Conflict(_illegal_message(), status=STATUS_LABELS[exc.status.value],
                       action=EVENT_LABELS.get(exc.action.value, exc.action.value)) from exc
    if new != ticket.status:
        _record(ticket, actor, now, action.value, "status", ticket.status, new, reason, **why)
        ticket.status = new


def _illegal_message():
    return _l("This action (%(action)s) is not possible while the request is “%(status)s”.")


def _set_assignee(ticket: Ticket, assignee: User | None, actor, now, kind: str) -> None:
    """The one writer of Ticket.assignee_id."""
    if ticket.assignee_id != (assignee.id if assignee else None):
        _record(ticket, actor, now, kind, "assignee", ticket.assignee_id,
                assignee.id if assignee else None)
        ticket.assignee_id = assignee.id if assignee else None
        ticket.assignee = assignee


def _move(ticket: Ticket, level: int, unit_id: int, how: str | None, actor, now, reason, *,
          new: bool = False, **why) -> None:
    """The one writer of Ticket.level and Ticket.unit_id: closes the stay, opens the next.

    ``new``: the ticket is being filed and has no stay yet. The current stay is looked up
    without flushing (every writer here ends with a flush, so it is stored), which keeps
    the change and its SLA in one flush."""
    if not new:
        with db.session.no_autoflush:
            current = db.session.scalar(select(TicketStay).where(
                TicketStay.ticket_id == ticket.id, TicketStay.left_at.is_(None)))
        if current is not None:
            current.left_at, current.left_how = now, how
    db.session.add(TicketStay(ticket_id=ticket.id, unit_id=unit_id, level=level, arrived_at=now))
    if ticket.level is not None and how:
        _record(ticket, actor, now, _KIND[how], "level", ticket.level, level, reason, **why)
        _record(ticket, actor, now, _KIND[how], "unit", ticket.unit_id, unit_id,
                shared=why.get("shared"))
    ticket.level, ticket.unit_id = level, unit_id
    if not new:  # ticket.unit follows unit_id (the notification names the new unit)
        db.session.expire(ticket, ["unit"])


_KIND = {"escalated": "escalate", "returned": "return"}


#: What follows every change of a ticket in the same flush: the SLA clock's recompute
#: of the stored due times and state (helpdesk.sla.services.refresh_ticket_sla),
#: registered at app setup, so that tickets does not import the feature above it.
_change_followers: list[Callable[..., None]] = []


def follow_changes(follower: Callable[..., None]) -> None:
    """Call ``follower(ticket, now=now, new=new)`` after every change (idempotent)."""
    if follower not in _change_followers:
        _change_followers.append(follower)


def _after_change(ticket: Ticket, now: datetime, *, new: bool = False) -> None:
    for follower in _change_followers:
        follower(ticket, now=now, new=new)


# --- validation ------------------------------------------------------------------------

def _text(field: str, value: str | None, *, minimum: int = 1, maximum: int = BODY_MAX) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if len(value) < minimum:
        raise ValidationFailed(field, "This field is required (at least %(n)s characters).", n=minimum)
    if len(value) > maximum:
        raise ValidationFailed(field, "This field is too long (at most %(n)s characters).", n=maximum)
    return value


def _priority(value) -> int:
    try:
        return Priority(int(value)).value
    except (TypeError, ValueError):
        raise ValidationFailed("priority", "Unknown priority.") from None


def attachments_directory() -> Path:
    """Where the local backend keeps attachments: ATTACHMENT_DIR, or instance/attachments."""
    return filestore.directory("attachments")


def _store_attachments(ticket, message, actor, uploads, now, *, internal=False) -> None:
    cfg = current_app.config
    checked = files.check_uploads(uploads, max_bytes=cfg["ATTACHMENT_MAX_BYTES"],
                                  max_count=cfg["ATTACHMENT_MAX_COUNT"],
                                  extensions=cfg["ATTACHMENT_EXTENSIONS"])
    for up in checked:
        db.session.add(Attachment(
            ticket_id=ticket.id, message=message, filename=up.filename,
            stored_name=filestore.write(db.session(), "attachments", up.data),
            content_type=up.content_type,
            size=len(up.data), sha256=up.sha256, is_internal=internal,
            uploaded_by_id=actor.id if actor else None, created_at=now,
        ))


def format_ref(ticket_id: int, created_at: datetime) -> str:
    prefix = current_app.config["TICKET_REF_PREFIX"]
    return f"{prefix}-{created_at.astimezone(zone()).year}-{ticket_id:06d}"


def _search_text(ticket: Ticket, school: School) -> str:
    return fold(" ".join([ticket.ref or "", ticket.subject, ticket.description,
                          school.code, school.name]))


# --- filing ----------------------------------------------------------------------------

def open_ticket(actor: User, *, school: School, category: Category, subject: str,
                description: str, priority=Priority.NORMAL, now: datetime, attachments=(),
                channel: str = "web") -> Ticket:
    """File a request for ``school``; it lands where the category and the chain say.

    The school files its own (web, e-mail, API); a technician, manager or administrator
    files on its behalf (permissions.can_file_for: a school of their area) and says how the
    school asked (``channel``: phone, visit, other, or api). The school is then told as if
    it had filed, and the timeline says who filed it and how (helpdesk.tickets.reasons)."""
    if not can_file_for(actor, school.id):
        raise PermissionDenied()
    channel = _channel(actor, channel)
    if category is None or not category.is_active:
        raise ValidationFailed("category", "Unknown category.")
    subject = _text("subject", subject, minimum=3, maximum=SUBJECT_MAX)
    description = _text("description", description, minimum=5)
    level, unit_id = routing.start(chain_for_school(school), category.first_level)
    # ``category`` too: the SLA reads its parent before the flush, and a pending ticket
    # loads no relationship.
    ticket = Ticket(id=_next_ticket_id(), school_id=school.id, category_id=category.id,
                    category=category, subject=subject, description=description,
                    priority=_priority(priority), status=Status.NEW, level=level,
                    unit_id=unit_id, created_by_id=actor.id, channel=channel, created_at=now,
                    updated_at=now)
    db.session.add(ticket)
    if ticket.id is None:  # no sequence to draw from (SQLite): the INSERT gives the id
        db.session.flush()
    ticket.ref = format_ref(ticket.id, now)
    ticket.search_text = _search_text(ticket, school)
    # The SLA of a filing needs no stored history, so the ticket is written whole in one
    # INSERT (SQLite: one UPDATE), and its first stay and event after it (they only name
    # it by id, so the flush would not know to write the ticket first).
    _after_change(ticket, now, new=True)
    _move(ticket, level, unit_id, None, actor, now, None, new=True)
    _record(ticket, actor, now, "created", "status", None, Status.NEW,
            **_on_behalf(actor, channel))
    _store_attachments(ticket, None, actor, attachments, now)
    db.session.flush()
    search.index(db.session, ticket.id, ticket.search_text, new=True)
    return ticket


def _channel(actor, channel) -> str:
    """The channel of a filing: the on-behalf ones (phone, visit, other) only for staff."""
    try:
        value = Channel(channel)
    except ValueError:
        raise ValidationFailed("channel", "Unknown channel.") from None
    if value in ON_BEHALF_CHANNELS and (acts_for_school(actor) or is_system(actor)):
        raise ValidationFailed("channel", "Only support staff file a request for a school.")
    return value.value


def _on_behalf(actor, channel: str) -> dict:
    """The created event's reason when someone other than the school files: who and how
    (a code rendered in each reader's language; the text in the site's)."""
    if acts_for_school(actor) or is_system(actor):
        return {}
    code, params = reasons.filed_on_behalf(actor.name, channel)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "el")):
        text = reasons.render(code, params)
    return {"reason": text, "code": code, "params": params}


def _next_ticket_id() -> int | None:
    """PostgreSQL: the new ticket's id, drawn from its sequence before the INSERT, so that
    the reference and the search text (which contain it) go in that INSERT."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return connection.exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence('tickets', 'id'))").scalar_one()


# --- working ---------------------------------------------------------------------------

def claim(actor: User, ticket: Ticket, *, now: datetime) -> None:
    """Take the ticket: it becomes the actor's."""
    require(actor, Perm.CLAIM, ticket)  # only unit staff may claim
    _set_status(ticket, Action.CLAIM, actor, now)
    _set_assignee(ticket, actor, actor, now, "claim")
    _after_change(ticket, now)


def assign(actor: User, ticket: Ticket, assignee: User, *, now: datetime) -> None:
    """Give the ticket to a member of its current unit."""
    require(actor, Perm.ASSIGN, ticket)
    is_member = assignee is not None and db.session.scalar(
        select(UnitMembership.user_id).where(UnitMembership.user_id == assignee.id,
                                             UnitMembership.unit_id == ticket.unit_id))
    if not is_member or not assignee.is_active:
        raise ValidationFailed("assignee", "The assignee must be an active member of the ticket's unit.")
    _set_status(ticket, Action.ASSIGN, actor, now)
    _set_assignee(ticket, assignee, actor, now, "assign")
    _after_change(ticket, now)


def reply(actor: User, ticket: Ticket, body: str, *, now: datetime, await_school: bool = False,
          attachments=(), channel: str = "web") -> Message:
    """A public reply. The school's answer resumes a waiting ticket; staff may ask and wait."""
    require(actor, Perm.REPLY, ticket)
    body = _text("body", body)
    message = Message(ticket_id=ticket.id, author_id=actor.id, body=body, channel=channel,
                      created_at=now)
    db.session.add(message)
    db.session.flush()
    _record(ticket, actor, now, "reply", "message", None, message.id)
    _store_attachments(ticket, message, actor, attachments, now)
    if acts_for_school(actor):
        if ticket.status == Status.WAITING:
            _set_status(ticket, Action.SCHOOL_REPLY, actor, now)
    else:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        if ticket.assignee_id is None and works_at_units(actor):
            _set_status(ticket, Action.CLAIM, actor, now)
            _set_assignee(ticket, actor, actor, now, "claim")
        if await_school:
            _set_status(ticket, Action.AWAIT_SCHOOL, actor, now)
    _after_change(ticket, now)
    return message


def add_note(actor: User, ticket: Ticket, body: str, *, now: datetime, attachments=()) -> Message:
    """An internal note: technicians only, never shown to the school."""
    require(actor, Perm.NOTE, ticket)
    body = _text("body", body)
    message = Message(ticket_id=ticket.id, author_id=actor.id, body=body, is_internal=True,
                      created_at=now)
    db.session.add(message)
    db.session.flush()
    _record(ticket, actor, now, "note", "message", None, message.id, internal=True)
    _store_attachments(ticket, message, actor, attachments, now, internal=True)
    db.session.flush()
    return message


def change_priority(actor: User, ticket: Ticket, priority, *, now: datetime,
                    reason: str | None = None) -> None:
    require(actor, Perm.PRIORITY, ticket)
    value = _priority(priority)
    if value != ticket.priority:
        _record(ticket, actor, now, "priority", "priority", ticket.priority, value, reason)
        ticket.priority = value
        _after_change(ticket, now)


def change_category(actor: User, ticket: Ticket, category: Category | None, *, now: datetime,
                    reason: str | None = None) -> None:
    """Put the ticket in another category (an e-mailed request arrives in
    MAIL_DEFAULT_CATEGORY, a school may pick the wrong one): technicians of its current unit.

    Only the category changes. ``Category.first_level`` decides where a request *starts*;
    a ticket is never moved between levels or units here, even when the new category would
    have started elsewhere: moving it is an escalation or a return, each with its own
    reason and event. The event (kind "category", old → new code) is shown to the school;
    ``reason`` is staff text. The SLA is recomputed (targets may depend on the category)."""
    require(actor, Perm.RECATEGORISE, ticket)
    if category is None or not category.is_active:
        raise ValidationFailed("category", "Unknown category.")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 500:
        raise ValidationFailed("reason", "This field is too long (at most %(n)s characters).", n=500)
    if category.id == ticket.category_id:
        return
    _record(ticket, actor, now, "category", "category", ticket.category.code, category.code,
            reason)
    ticket.category_id, ticket.category = category.id, category
    _after_change(ticket, now)


def escalate(actor: User | SystemActor | None, ticket: Ticket, reason: str, *, now: datetime,
             tell_school: bool = False, code: str | None = None, params: dict | None = None,
             chain: routing.Chain | None = None, refresh_sla: bool = True) -> None:
    """Move the ticket up one level, to the unit the school's chain names; reason required.

    The school sees the move; it reads the reason only when ``tell_school``. The system
    (``accounts.system.SYSTEM``, the SLA sweep) needs no permission and gives its reason as
    a ``code`` with ``params`` (helpdesk.tickets.reasons) besides the text.

    For a caller that escalates a batch (the sweep): ``chain`` is the school's chain when
    it has it already (one query for the batch); ``refresh_sla`` False leaves the SLA
    recomputation and the flush to it."""
    if not is_system(actor):
        require(actor, Perm.ESCALATE, ticket)
    reason = _text("reason", reason, minimum=5)
    if chain is None:
        chain = chain_for_school(ticket.school)
    try:
        level, unit_id = routing.escalation_target(chain, ticket.level)
    except routing.NoHigherLevel:
        raise Conflict(_l("The request is already at the highest level.")) from None
    why = dict(shared=bool(tell_school), code=code, params=params)
    _set_status(ticket, Action.ESCALATE, actor, now, reason, **why)
    _set_assignee(ticket, None, actor, now, "escalate")
    _move(ticket, level, unit_id, "escalated", actor, now, reason, **why)
    if refresh_sla:
        _after_change(ticket, now)


def return_to_lower(actor: User, ticket: Ticket, instructions: str, *, now: datetime,
                    tell_school: bool = False) -> None:
    """Send the ticket one level down with instructions (the fix belongs on site).

    The school sees the move; it reads the instructions only when ``tell_school``."""
    require(actor, Perm.RETURN, ticket)
    instructions = _text("instructions", instructions, minimum=5)
    try:
        level, unit_id = routing.return_target(chain_for_school(ticket.school), ticket.level)
    except routing.NoLowerLevel:
        raise Conflict(_l("The request is already at the lowest level.")) from None
    shared = bool(tell_school)
    _set_status(ticket, Action.RETURN, actor, now, instructions, shared=shared)
    _set_assignee(ticket, None, actor, now, "return")
    _move(ticket, level, unit_id, "returned", actor, now, instructions, shared=shared)
    _after_change(ticket, now)


def resolve(actor: User, ticket: Ticket, resolution_type: ResolutionType | None, text: str, *,
            now: datetime) -> Message:
    """Resolve with a resolution type; the text is a public reply the school sees."""
    require(actor, Perm.RESOLVE, ticket)
    if resolution_type is None:
        raise ValidationFailed("resolution_type", "Choose how the request was resolved.")
    text = _text("text", text, minimum=5)
    message = Message(ticket_id=ticket.id, author_id=actor.id, body=text, created_at=now)
    db.session.add(message)
    db.session.flush()
    _record(ticket, actor, now, "reply", "message", None, message.id)
    _set_status(ticket, Action.RESOLVE, actor, now, text)
    _record(ticket, actor, now, "resolve", "resolution_type", ticket.resolution_type_id,
            resolution_type.code)
    ticket.resolution_type_id = resolution_type.id
    ticket.resolved_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    _after_change(ticket, now)
    return message


def reopen(actor: User, ticket: Ticket, reason: str, *, now: datetime, attachments=(),
           channel: str = "web") -> Message:
    """Reopen a resolved ticket (a school only within the reopen window); the reason is a
    message of the ticket, with the files that came with it (a mail's attachments)."""
    window = timedelta(days=current_app.config["REOPEN_WINDOW_DAYS"])
    require(actor, Perm.REOPEN, ticket, now=now, reopen_window=window)
    return _reopen(actor, ticket, _text("reason", reason, minimum=5), now, attachments, channel)


def _reopen(actor, ticket: Ticket, reason: str, now: datetime, attachments, channel) -> Message:
    message = Message(ticket_id=ticket.id, author_id=actor.id, body=reason, channel=channel,
                      created_at=now)
    db.session.add(message)
    db.session.flush()
    _record(ticket, actor, now, "reply", "message", None, message.id)
    _store_attachments(ticket, message, actor, attachments, now)
    _set_status(ticket, Action.REOPEN, actor, now, reason)
    ticket.resolved_at = None
    _after_change(ticket, now)
    return message


# --- the school's answer to a resolution -----------------------------------------------------

#: How a school confirms (Ticket.confirmed_via).
CONFIRMED_VIA = ("web", "link", "email")
COMMENT_MAX = 2000


def confirm(actor, ticket: Ticket, *, now: datetime, rating=None, comment: str | None = None,
            via: str = "web", body: str | None = None) -> Message | None:
    """The school says the resolution worked: the request closes, with its optional 1–5
    rating and comment (staff read them on the ticket and in the satisfaction report).

    ``body``: the words of a thank-you mail, kept as the school's message (staff read
    them); a confirmation on the web or by the mail's link has none."""
    require(actor, Perm.CONFIRM, ticket)
    rating = _rating(rating)
    comment = (comment or "").replace("\r\n", "\n").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        raise ValidationFailed("comment", "This field is too long (at most %(n)s characters).",
                               n=COMMENT_MAX)
    if via not in CONFIRMED_VIA:
        raise ValidationFailed("via", "Unknown channel.")
    message = None
    if body is not None:
        message = Message(ticket_id=ticket.id, author_id=actor.id, body=_text("body", body),
                          channel="email" if via == "email" else "web", created_at=now)
        db.session.add(message)
        db.session.flush()
        _record(ticket, actor, now, "reply", "message", None, message.id)
    _set_status(ticket, Action.CONFIRM, actor, now)
    if rating is not None or comment is not None:
        _record(ticket, actor, now, "rating", "rating", None, rating, comment)
    ticket.confirmed_at, ticket.confirmed_via = now, via
    ticket.rating, ticket.rating_comment = rating, comment
    ticket.closed_at = now
    _after_change(ticket, now)
    return message


def not_solved(actor, ticket: Ticket, *, now: datetime, comment: str | None = None,
               via: str = "web") -> Message:
    """The school says the resolution did not work: the request reopens, as long as it is
    resolved (the question was asked until it closes, past the reopen window too). The
    school's comment, or a sentence saying so in the site's language, is its message."""
    require(actor, Perm.CONFIRM, ticket)
    comment = (comment or "").replace("\r\n", "\n").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed("comment", "This field is too long (at most %(n)s characters).",
                               n=COMMENT_MAX)
    if len(comment) < 5:
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "el")):
            said = str(_l("The school says the problem is not solved."))
        comment = f"{said} {comment}".strip()
    return _reopen(actor, ticket, comment, now, (), "email" if via == "email" else "web")


def _rating(value) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        rating = int(value)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATINGS:
        raise ValidationFailed("rating", "Choose a rating from 1 to 5.")
    return rating


def close_resolved(*, now: datetime, older_than: timedelta, limit: int = 1000) -> int:
    """Close tickets resolved before ``now - older_than`` (the system acts); safe to repeat."""
    stmt = (select(Ticket).where(Ticket.status == Status.RESOLVED,
                                 Ticket.resolved_at <= now - older_than)
            .order_by(Ticket.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    tickets = db.session.scalars(stmt).all()
    for ticket in tickets:
        _set_status(ticket, Action.CLOSE, SYSTEM, now, "auto-close")
        ticket.closed_at = now
        _after_change(ticket, now)
    db.session.flush()
    return len(tickets)


# --- known outages (helpdesk.incidents) ------------------------------------------------

def mark_incident(actor, ticket: Ticket, incident_id: int | None, *, now: datetime,
                  previous: int | None = None, refresh_sla: bool = True) -> None:
    """Record that the ticket was linked to incident ``incident_id`` (None: unlinked from
    ``previous``). The permission is the incident's (helpdesk.permissions
    can_link_to_incident, can_unlink_from_incident, can_say_affected), asked by
    helpdesk.incidents.services. The SLA clocks stand still while linked (sla.clock)."""
    _record(ticket, actor, now, "incident", "incident", previous, incident_id, shared=True)
    if refresh_sla:
        _after_change(ticket, now)


def mark_incident_many(actor, chosen: list[Ticket], incident_id: int, *,
                       now: datetime) -> None:
    """``mark_incident`` of a batch being linked: the events in one INSERT, the tickets'
    last change set on them (the caller recomputes their SLA and flushes them once)."""
    if not chosen:
        return
    actor_id, email = getattr(actor, "id", None), _address_actor(actor)
    bulk.insert_rows(db.session, TicketEvent.__table__, [dict(
        ticket_id=t.id, actor_id=actor_id, actor_email=email, at=now, kind="incident",
        field="incident", old_value=None, new_value=str(incident_id), reason=None,
        is_internal=False, is_shared_with_school=True) for t in chosen])
    for ticket in chosen:
        ticket.updated_at = now


#: The SLA columns of a ticket (helpdesk.sla.services.apply_result writes them).
SLA_COLUMNS = ("first_response_due_at", "resolution_due_at", "level_due_at", "sla_state",
               "first_response_minutes", "resolution_minutes", "first_response_breached",
               "resolution_breached")

#: What the SLA of a batch is recomputed from: (the tickets' facts — dicts of id, priority,
#: category_id, unit_id, level, created_at, first_response_at — as they will be stored,
#: the clock events each gets now, in order, and now) -> {ticket id: {SLA column: value}}.
SlaOfBatch = Callable[[list[dict], dict[int, list[tuple]], datetime], dict[int, dict]]


@dataclass(frozen=True)
class IncidentResolution:
    """How ``post_incident_update`` resolves a batch: the resolution type, and the SLA
    recompute of helpdesk.sla (passed down: tickets does not import the layer above)."""

    resolution_type: ResolutionType
    sla_of: SlaOfBatch


def post_incident_update(actor, ticket_ids: list[int], incident_id: int, text: str, *,
                         now: datetime,
                         resolution: IncidentResolution | None = None) -> list[int]:
    """An incident's public update on each of its linked tickets (one event each, its text
    the school reads); with ``resolution``, the update resolves the incident: see
    ``_resolve_for_incident``. Returns the ids of the tickets resolved.

    Set-based, for a batch of the incident's job: without a resolution one INSERT … SELECT
    of the events and one UPDATE of the tickets' last change (the ticket's state does not
    change, so neither does its SLA). The bus records nothing of them: the incident's job
    tells each school once."""
    if not ticket_ids:
        return []
    if resolution is not None:
        return _resolve_for_incident(actor, ticket_ids, incident_id, text, resolution,
                                     now=now)
    events = TicketEvent.__table__
    tickets = Ticket.__table__
    chosen = tickets.c.id.in_(ticket_ids)
    rows = select(tickets.c.id, *_event_constants(actor, now, "incident_update", incident_id,
                                                  text)).where(chosen)
    db.session.execute(events.insert().from_select(
        ["ticket_id", "actor_id", "at", "kind", "field", "new_value", "reason",
         "is_internal", "is_shared_with_school"], rows))
    db.session.execute(tickets.update().where(chosen).values(updated_at=now))
    return []


def _event_constants(actor, now: datetime, field: str, incident_id: int, text: str) -> list:
    """The columns every ticket's update event shares, as typed literals of one SELECT
    (the timestamp is bound once per batch, not once per row)."""
    return [literal(getattr(actor, "id", None), Integer), literal(now, UTCDateTime),
            literal("incident"), literal(field), literal(str(incident_id)), literal(text),
            literal(False), literal(True)]


def _resolve_for_incident(actor, ticket_ids: list[int], incident_id: int, text: str,
                          resolution: IncidentResolution, *, now: datetime) -> list[int]:
    """Post the closing update, resolve the open ones of ``ticket_ids`` with it (a public
    reply each, through the transition table), and release every one from the incident's
    hold of its SLA clocks, with the SLA recomputed (``resolution.sla_of``).

    The rows are locked and read once; the messages and the events are each written in
    one statement, and each ticket is updated once (status, resolution, last change and
    SLA together: helpdesk.core.bulk)."""
    tickets = Ticket.__table__
    stmt = select(tickets.c.id, tickets.c.status, tickets.c.resolution_type_id,
                  tickets.c.resolved_at, tickets.c.priority, tickets.c.category_id,
                  tickets.c.unit_id, tickets.c.level, tickets.c.created_at,
                  tickets.c.first_response_at) \
        .where(tickets.c.id.in_(ticket_ids)).order_by(tickets.c.id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    current = db.session.execute(stmt).all()
    resolving = []
    for row in current:
        try:
            next_status(row.status, Action.RESOLVE)
        except IllegalTransition:
            continue
        resolving.append(row)
    actor_id = getattr(actor, "id", None)
    rtype = resolution.resolution_type
    message_of = {r.ticket_id: r.id for r in bulk.insert_rows(
        db.session, Message.__table__,
        [dict(ticket_id=row.id, author_id=actor_id, body=text, is_internal=False,
              channel="web", created_at=now) for row in resolving],
        returning=("id", "ticket_id"))}
    common = dict(actor_id=actor_id, at=now, is_internal=False, is_shared_with_school=True,
                  old_value=None, reason=None)
    events = [dict(common, ticket_id=row.id, kind="incident", field="incident_update",
                   new_value=str(incident_id), reason=text) for row in current]
    clock: dict[int, list[tuple]] = {row.id: [] for row in current}
    for row in resolving:
        events += [
            dict(common, ticket_id=row.id, kind="reply", field="message",
                 new_value=str(message_of[row.id])),
            dict(common, ticket_id=row.id, kind="resolve", field="status",
                 old_value=row.status, new_value=Status.RESOLVED.value, reason=text),
            dict(common, ticket_id=row.id, kind="resolve", field="resolution_type",
                 old_value=None if row.resolution_type_id is None
                 else str(row.resolution_type_id), new_value=rtype.code)]
        clock[row.id].append((now, "status", row.status, Status.RESOLVED.value))
    events += [dict(common, ticket_id=row.id, kind="incident", field="incident",
                    old_value=str(incident_id), new_value=None) for row in current]
    for row in current:
        clock[row.id].append((now, "incident", str(incident_id), None))
    bulk.insert_rows(db.session, TicketEvent.__table__, events)
    # each ticket as it will be stored: resolved, or as it was; then its SLA
    stored = []
    for row in current:
        fact = row._asdict()
        if row.id in message_of:
            fact.update(status=Status.RESOLVED.value, resolved_at=now,
                        resolution_type_id=rtype.id,
                        first_response_at=row.first_response_at or now)
        stored.append(fact)
    sla_values = resolution.sla_of(stored, clock, now)
    bulk.update_rows(db.session, tickets, [dict(
        id=f["id"], status=f["status"], resolved_at=f["resolved_at"],
        resolution_type_id=f["resolution_type_id"], first_response_at=f["first_response_at"],
        updated_at=now, **sla_values[f["id"]]) for f in stored])
    return [row.id for row in resolving]
