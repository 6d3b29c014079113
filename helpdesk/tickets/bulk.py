"""Bulk actions on a queue: one action, its values, many tickets; each ticket alone.

A small registry: an action's name → its label, the form fields it asks for, how the
values become the service call's arguments (once, for every ticket), and that call.
Each ticket goes through the very service call of the ticket page (its permission
check, its events, hence the same notifications and webhooks, as if done one by one),
in a SAVEPOINT of its own: a ticket that fails is reported with its reason and the
others go on (never all-or-nothing in silence). Only tickets the actor may see are
loaded (permissions.scope_tickets); the service refuses what the actor may not do.

Another feature adds its action with ``register`` at app setup (incidents: "link to
incident"), so this module never imports the features above it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.core.bounds import parse_int
from helpdesk.core.errors import DomainError, NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import Category, ResolutionType
from helpdesk.permissions import Perm, scope_tickets
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket

#: The most tickets one bulk action takes (a queue page holds far fewer).
MAX_TICKETS = 5000


@dataclass(frozen=True)
class BulkField:
    """One input of an action's form: ``kind`` select (its choices come from the page:
    ``choices`` names them), text or textarea."""

    name: str
    label: object
    kind: str = "select"
    #: select: the page's list of choices this field offers (e.g. "assignees").
    choices: str | None = None
    required: bool = True


@dataclass(frozen=True)
class BulkAction:
    name: str
    label: object
    #: The permission the ticket page asks for the same action (shown only to those who
    #: may on some ticket; the service checks each ticket again).
    perm: Perm
    fields: tuple[BulkField, ...]
    #: values (field name → submitted text) → the call's arguments; ValidationFailed when
    #: they are unusable, before any ticket is touched.
    prepare: Callable[[dict[str, str]], dict]
    #: (actor, ticket, arguments, now) → the service call of one ticket.
    call: Callable[..., object]


REGISTRY: dict[str, BulkAction] = {}


def register(action: BulkAction) -> None:
    """Add (or replace) an action of the bulk form."""
    REGISTRY[action.name] = action


def actions() -> list[BulkAction]:
    return list(REGISTRY.values())


@dataclass
class Outcome:
    """What one bulk action did: the tickets changed, and why each of the others was not."""

    done: list[str] = field(default_factory=list)
    #: (reference or id, the reason in the reader's language)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"done": self.done, "failed": [list(x) for x in self.failed]}


def prepare(name: str, values: dict[str, str]) -> tuple[BulkAction, dict]:
    """The action and its call's arguments; ValidationFailed for an unknown action or
    values it cannot use (nothing has changed then)."""
    action = REGISTRY.get(name)
    if action is None:
        raise ValidationFailed("action", "Choose an action.")
    for f in action.fields:
        if f.required and not (values.get(f.name) or "").strip():
            raise ValidationFailed(f.name, "This field is required (at least %(n)s characters).",
                                   n=1)
    return action, action.prepare(values)


def ticket_ids(values: Iterable) -> list[int]:
    """The distinct ticket ids of a submission, in order; ValidationFailed if none or too many."""
    ids = list(dict.fromkeys(i for i in (parse_int(v, low=1) for v in values) if i is not None))
    if not ids:
        raise ValidationFailed("ticket_ids", "Select at least one request.")
    if len(ids) > MAX_TICKETS:
        raise ValidationFailed("ticket_ids", "Select at most %(n)s requests.", n=MAX_TICKETS)
    return ids


def apply(actor, action: BulkAction, arguments: dict, ids: list[int], *,
          now: datetime) -> Outcome:
    """Run ``action`` on each ticket of ``ids`` the actor sees, each in its own SAVEPOINT
    (flushes; the caller commits). Tickets the actor cannot see are reported as not found."""
    outcome = Outcome()
    found = {t.id: t for t in db.session.scalars(
        scope_tickets(actor, select(Ticket).where(Ticket.id.in_(ids))).order_by(Ticket.id))}
    for ticket_id in ids:
        ticket = found.get(ticket_id)
        if ticket is None:
            outcome.failed.append((f"#{ticket_id}", str(NotFound())))
            continue
        ref = ticket.ref
        try:
            with db.session.begin_nested():
                action.call(actor, ticket, arguments, now)
        except DomainError as exc:
            outcome.failed.append((ref, str(exc)))
            continue
        outcome.done.append(ref)
    return outcome


# --- the built-in actions ----------------------------------------------------------------------

def _id(values: dict, name: str) -> int:
    number = parse_int(values.get(name), low=1)
    if number is None:
        raise ValidationFailed(name, "This field is required (at least %(n)s characters).", n=1)
    return number


def _assignee(values: dict) -> dict:
    user = db.session.get(User, _id(values, "assignee"))
    if user is None or not user.is_active:
        raise ValidationFailed("assignee",
                               "The assignee must be an active member of the ticket's unit.")
    return {"assignee": user}


def _category(values: dict) -> dict:
    category = db.session.get(Category, _id(values, "category"))
    if category is None or not category.is_active:
        raise ValidationFailed("category", "Unknown category.")
    return {"category": category}


def _resolution(values: dict) -> dict:
    kind = db.session.get(ResolutionType, _id(values, "resolution_type"))
    if kind is None or kind.code == ResolutionType.GUIDE:  # a guide is named per request
        raise ValidationFailed("resolution_type", "Choose how the request was resolved.")
    text = (values.get("text") or "").strip()
    if len(text) < 5:
        raise ValidationFailed("text", "This field is required (at least %(n)s characters).", n=5)
    return {"resolution_type": kind, "text": text}


def _priority(values: dict) -> dict:
    return {"priority": _id(values, "priority")}


register(BulkAction(
    "assign", _l("Assign to"), Perm.ASSIGN,
    (BulkField("assignee", _l("Assignee"), choices="assignees"),), _assignee,
    lambda actor, t, a, now: services.assign(actor, t, a["assignee"], now=now)))
register(BulkAction(
    "priority", _l("Change the priority"), Perm.PRIORITY,
    (BulkField("priority", _l("Priority"), choices="priorities"),), _priority,
    lambda actor, t, a, now: services.change_priority(actor, t, a["priority"], now=now)))
register(BulkAction(
    "category", _l("Change the category"), Perm.RECATEGORISE,
    (BulkField("category", _l("Category"), choices="categories"),), _category,
    lambda actor, t, a, now: services.change_category(actor, t, a["category"], now=now)))
register(BulkAction(
    "resolve", _l("Resolve with one text"), Perm.RESOLVE,
    (BulkField("resolution_type", _l("Resolution"), choices="resolution_types"),
     BulkField("text", _l("Resolution text (the schools read it)"), kind="textarea")),
    _resolution,
    lambda actor, t, a, now: services.resolve(actor, t, a["resolution_type"], a["text"],
                                              now=now)))
