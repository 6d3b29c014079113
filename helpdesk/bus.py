"""The message bus: domain events in, their handlers' side effects out, in the same
transaction (as Cosmic Python's message bus, with the session as the unit of work).

- ``record(event)``: the event is handled just before the commit (history rows are
  recorded this way by the session hook: every new TicketEvent or EquipmentHistory a
  flush writes becomes its event, helpdesk.events.from_row).
- ``handle(event)``: the handlers run now, in the caller's transaction, and their
  results are returned (the SLA sweep counts the mails it wrote).

Which handlers an event calls is one table, helpdesk.handlers.HANDLERS, handed to
``register`` at app setup (helpdesk.app_setup). A handler takes
a list of events: at the commit each handler is called once with all the events of
the transaction it is listed for, in the order they were recorded, so the events of one
change (one ticket, one actor, one moment) reach the notification rules together.
Handlers write rows only (outbox rows, hand-off to RQ after the commit through
helpdesk.core.aftercommit); a rollback forgets the recorded events.

``paused()`` turns recording off for one session (bulk loads of history, the demo).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event as sa_event
from sqlalchemy import inspect

from helpdesk import events
from helpdesk.extensions import db

_EVENTS = "bus.events"
_HELD = "bus.held"
_PAUSED = "bus.paused"
#: New rows the handlers read at the commit, held until the transaction ends: a new
#: ticket (its filing's mail reads it and the category it was given, which the view has
#: let go of by then) and a new message (the reply a mail quotes).
_HOLD = frozenset({"Ticket", "Message"})
#: Rounds of handling at one commit (a handler's rows may record events in turn).
_MAX_ROUNDS = 5


#: The table, helpdesk.handlers.HANDLERS, given to ``register`` at app setup: the
#: handlers import the features that record events, so the bus cannot import them.
_TABLE: dict[type, list[Callable]] = {}


def handlers() -> dict[type, list[Callable]]:
    """The table (helpdesk.handlers.HANDLERS)."""
    return _TABLE


def handlers_for(event_type: type) -> list[Callable]:
    """The handlers of ``event_type`` (the table's entry of it or of its nearest base)."""
    table = handlers()
    for cls in event_type.__mro__:
        if cls in table:
            return table[cls]
    return []


def record(event: events.Event, session=None) -> None:
    """Handle ``event`` just before the commit of ``session`` (db.session)."""
    session = session or db.session()
    if not session.info.get(_PAUSED):
        session.info.setdefault(_EVENTS, []).append(event)


def handle(event: events.Event) -> list:
    """Run the handlers of ``event`` now; their results, in table order."""
    if db.session.info.get(_PAUSED):
        return []
    return [handler([event]) for handler in handlers_for(type(event))]


def dispatch(batch: list[events.Event]) -> None:
    """Call each handler once with the events of ``batch`` it is listed for."""
    calls: dict[Callable, list[events.Event]] = {}
    for event in batch:
        for handler in handlers_for(type(event)):
            calls.setdefault(handler, []).append(event)
    for handler, its_events in calls.items():
        handler(its_events)


@contextmanager
def paused(session=None) -> Iterator[None]:
    """Record no events (so cause no side effects) for what ``session`` commits inside."""
    session = session or db.session()
    previous = session.info.get(_PAUSED, False)
    session.info[_PAUSED] = True
    try:
        yield
    finally:
        session.info[_PAUSED] = previous


# --- session hooks ---------------------------------------------------------------------------

def _before_flush(session, flush_context, instances) -> None:
    if session.info.get(_PAUSED):
        return
    held = []
    for obj in session.new:
        found = events.from_row(obj)
        if found is not None:
            record(found, session)
        elif type(obj).__name__ in _HOLD:
            held.append(obj)
    if held:  # kept until the transaction ends, so that the handlers find them in the
        # identity map (which keeps only weak references) instead of reading them again
        session.info.setdefault(_HELD, []).extend(held)


def _before_commit(session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT: wait for the real commit
        return
    for _ in range(_MAX_ROUNDS):
        session.flush()  # rows added since the last flush are recorded now
        batch = [e for e in session.info.pop(_EVENTS, []) if _still_there(e)]
        if session.info.get(_PAUSED) or not batch:
            return
        with session.no_autoflush:
            dispatch(batch)
    session.flush()


def _still_there(event: events.Event) -> bool:
    """False for an event whose history row a rolled-back SAVEPOINT took away."""
    row = getattr(event, "row", None)
    return row is None or inspect(row).persistent


def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        session.info.pop(_EVENTS, None)
        session.info.pop(_HELD, None)


_HOOKS = (("before_flush", _before_flush), ("before_commit", _before_commit),
          ("after_transaction_end", _after_transaction_end))


def register(table: dict[type, list[Callable]]) -> None:
    """Use ``table`` (helpdesk.handlers.HANDLERS) and install the hooks on the app's
    sessions (idempotent)."""
    if _TABLE is not table:
        _TABLE.clear()
        _TABLE.update(table)
    for name, fn in _HOOKS:
        if not sa_event.contains(db.session, name, fn):
            sa_event.listen(db.session, name, fn)
