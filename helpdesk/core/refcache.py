"""Per-process copies of small, rarely changed tables, checked once per transaction.

A ``TableCache`` keeps a value built from a few tables (the SLA policies and calendars,
the webhook subscriptions) together with those tables' versions. ``get(session)``
compares them with the database's and rebuilds the value when they differ, so a change
committed by any process (another web worker, an RQ job, a migration, psql) is seen by
the next transaction; nothing expires by time.

A table's version is its row in ``ref_versions``, which a trigger moves on every write to
the table (migration perf05refversions) to a value never used before (PostgreSQL: a
sequence; SQLite: a random 64-bit number), so a copy built in a transaction that was then
rolled back cannot match a later change. On PostgreSQL the trigger runs before each writing
statement and first locks every version row in one order (perf06refversionsorder), so
writers of several cached tables wait for each other rather than deadlock. A table
registered here without such a row (a new TableCache before its migration) is checked by a
fingerprint of its contents instead: md5 of its rows' text on PostgreSQL, its rows' quoted
values on SQLite.

The versions of every registered table are read in one statement, once per database
transaction, and read again after a write through the same connection touches one of
the tables (an ORM flush, or an ORM INSERT/UPDATE/DELETE statement on it). Within one
transaction the tables are thus seen as of its first look (a change another process
commits meanwhile is seen by the next transaction).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import BigInteger, Column, String, Table, event
from sqlalchemy.orm import Session

from helpdesk.extensions import db

T = TypeVar("T")
_MEMO = "refcache.fingerprints"
#: Table names whose fingerprints are read together.
_TABLES: list[str] = []
_SQL: dict[tuple[str, tuple[str, ...]], str] = {}
_lock = threading.Lock()

#: A version per cached table, moved by a trigger on every write to it (perf05refversions).
ref_versions = Table("ref_versions", db.metadata,
                     Column("name", String(64), primary_key=True),
                     Column("version", BigInteger, nullable=False))
_VERSIONS = "SELECT name, version FROM ref_versions"


class TableCache(Generic[T]):
    """A value built from ``tables`` by ``build(session)``, rebuilt when they change."""

    def __init__(self, tables: tuple[str, ...], build: Callable[[Session], T]):
        self.tables = tuple(tables)
        self.build = build
        self._entry: tuple[tuple, T] | None = None
        with _lock:
            _TABLES.extend(t for t in self.tables if t not in _TABLES)
        _register()

    def get(self, session: Session) -> T:
        marks = fingerprints(session, self.tables)
        entry = self._entry
        if entry is not None and entry[0] == marks:
            return entry[1]
        with session.no_autoflush:
            value = self.build(session)
        self._entry = (marks, value)
        return value

    def clear(self) -> None:
        """Forget the value (the next ``get`` builds it again)."""
        self._entry = None


def fingerprints(session: Session, tables: tuple[str, ...]) -> tuple:
    """The versions of ``tables`` as this transaction sees them (one statement).

    Kept on the connection for the rest of its transaction, until something written
    through it touches one of the tables. Other pending changes stay unflushed (the
    caller may be in the middle of a change it wants written in one flush); pending
    changes to the cached tables are flushed first."""
    if _touches(session.new, session.dirty, session.deleted):
        session.flush()
    connection = session.connection()
    transaction = connection.get_transaction()
    memo = connection.info.get(_MEMO)
    if memo is None or memo[0] is not transaction or not all(t in memo[1] for t in tables):
        names = tuple(_TABLES)
        versions = dict(connection.exec_driver_sql(_VERSIONS).all())
        unversioned = tuple(name for name in names if name not in versions)
        if unversioned:
            row = connection.exec_driver_sql(_sql(connection.dialect.name, unversioned)).one()
            versions.update(zip(unversioned, row, strict=True))
        memo = (transaction, {name: versions[name] for name in names})
        connection.info[_MEMO] = memo
    return tuple(memo[1][t] for t in tables)


def _sql(dialect: str, names: tuple[str, ...]) -> str:
    key = (dialect, names)
    if key not in _SQL:
        if dialect == "postgresql":
            # Ordered by the rows' text, not an id: some tables have a composite key.
            parts = [f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                     f"FROM {name} t)" for name in names]
        else:
            parts = [f"(SELECT group_concat(r, '|') FROM (SELECT {_row_text(name)} AS r "
                     f"FROM {name} ORDER BY r))" for name in names]
        _SQL[key] = "SELECT " + ", ".join(parts)
    return _SQL[key]


def _row_text(name: str) -> str:
    return " || ',' || ".join(f"quote({c.name})" for c in db.metadata.tables[name].columns)


# --- this session's own writes -------------------------------------------------------------

def _touches(*collections) -> bool:
    return any(getattr(obj, "__tablename__", None) in _TABLES
               for objects in collections for obj in objects)


def forget(session: Session) -> None:
    """Drop the fingerprints read in the session's transaction: the next ``get`` reads
    them again (as a new transaction would; for tests that stand for another process)."""
    session.connection().info.pop(_MEMO, None)


def _after_flush(session: Session, flush_context) -> None:
    if _touches(session.new, session.dirty, session.deleted):
        forget(session)


def _do_orm_execute(state) -> None:
    if ((state.is_insert or state.is_update or state.is_delete)
            and getattr(getattr(state.statement, "table", None), "name", None) in _TABLES):
        forget(state.session)


def _register() -> None:
    """Install the session hooks (once per process; every TableCache asks)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
