"""The writer of saved views: save, rename, delete (flush only; the owner alone).

A view keeps the queue page's query string, normalised: only the queue and the filters
the queue page reads (helpdesk.tickets.queries.Filters), no page number, no empty value,
in a fixed order, so the same filters are the same view.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db
from helpdesk.permissions import can_change_saved_view, can_keep_saved_views
from helpdesk.savedviews.models import SavedView
from helpdesk.tickets.queries import Filters

NAME_MAX = 80
#: A person keeps at most this many views (the list sits above the queue).
MAX_VIEWS = 30
#: The queue page's parameters a view keeps, in this order.
KEYS = ("queue",) + tuple(k for k in Filters.__dataclass_fields__ if k != "page")


def normalise(query) -> str:
    """The query string of a view: a mapping (request.args) or a raw query string."""
    if isinstance(query, str):
        pairs = dict(parse_qsl(query.lstrip("?"), keep_blank_values=False))
    else:
        pairs = {k: query.get(k) for k in KEYS}
    kept = [(k, (pairs.get(k) or "").strip()[:100]) for k in KEYS]
    return urlencode([(k, v) for k, v in kept if v])


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("name", "Give the view a name.")
    if len(name) > NAME_MAX:
        raise ValidationFailed("name", "The name may be at most %(max)d characters.",
                               max=NAME_MAX)
    return name


def _unique(actor, name: str, except_id: int | None = None) -> None:
    stmt = select(SavedView.id).where(SavedView.user_id == actor.id, SavedView.name == name)
    if except_id is not None:
        stmt = stmt.where(SavedView.id != except_id)
    if db.session.scalar(stmt) is not None:
        raise ValidationFailed("name", "You already have a view named “%(name)s”.", name=name)


def save(actor, name: str, query, *, now: datetime) -> SavedView:
    """Save the queue filters ``query`` under ``name`` for ``actor``."""
    if not can_keep_saved_views(actor):
        raise PermissionDenied()
    name = _name(name)
    _unique(actor, name)
    count = db.session.scalar(select(func.count()).select_from(SavedView)
                              .where(SavedView.user_id == actor.id)) or 0
    if count >= MAX_VIEWS:
        raise ValidationFailed("name", "You may keep at most %(max)d views; delete one first.",
                               max=MAX_VIEWS)
    view = SavedView(user_id=actor.id, name=name, query=normalise(query), created_at=now)
    db.session.add(view)
    db.session.flush()
    return view


def _own(actor, view_id: int) -> SavedView:
    view = db.session.get(SavedView, view_id)
    if not can_change_saved_view(actor, view):
        raise NotFound()  # another person's view does not exist for anyone else
    return view


def rename(actor, view_id: int, name: str) -> SavedView:
    view = _own(actor, view_id)
    name = _name(name)
    _unique(actor, name, except_id=view.id)
    view.name = name
    db.session.flush()
    return view


def delete(actor, view_id: int) -> None:
    db.session.delete(_own(actor, view_id))
    db.session.flush()
