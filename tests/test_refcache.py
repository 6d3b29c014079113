"""The per-process copies' versions (helpdesk.core.refcache, migrations perf05refversions
and perf06refversionsorder), on the real database of the run (SQLite or PostgreSQL): every
cached table has a version that a trigger moves on each kind of write, a rolled-back
version is never reused, writers of two cached tables in opposite orders do not deadlock on
the versions, and a table without one falls back to a fingerprint of its contents."""
import importlib.util
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from helpdesk.core import refcache
from helpdesk.extensions import db as _db

MIGRATION = next((Path(__file__).parent.parent / "migrations" / "versions")
                 .glob("*_perf05_ref_versions.py"))


def _migration_tables() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("perf05", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TABLES


def version(table: str):
    return _db.session.execute(text("SELECT version FROM ref_versions WHERE name = :n"),
                               {"n": table}).scalar()


def triggered_tables() -> set[str]:
    if _db.session.get_bind().dialect.name == "postgresql":
        rows = _db.session.execute(text(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'ref_version_%'"))
    else:
        rows = _db.session.execute(text(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'ref_version_%'"))
    return {r[0] for r in rows}


def test_every_cached_table_has_a_version_and_a_trigger(db):
    # Every TableCache of the app registers its tables when its module is imported.
    registered = set(refcache._TABLES)
    assert registered, "the app registered no cached tables"
    assert registered <= set(_migration_tables())
    rows = dict(_db.session.execute(text("SELECT name, version FROM ref_versions")).all())
    assert registered <= set(rows), registered - set(rows)
    assert registered <= triggered_tables(), registered - triggered_tables()


@pytest.mark.parametrize("statement", [
    "INSERT INTO closures (day, description) VALUES ('2031-01-02', 'Χιονόπτωση')",
    "UPDATE directorates SET short_name_el = short_name_el",
    "DELETE FROM closures",
])
def test_each_kind_of_write_moves_the_tables_version(db, statement):
    table = statement.split()[2] if statement.startswith(("INSERT", "DELETE")) else \
        statement.split()[1]
    if statement.startswith("DELETE"):
        _db.session.execute(text("INSERT INTO closures (day, description) "
                                 "VALUES ('2031-01-03', 'Απεργία')"))
    before = version(table)
    refcache.forget(_db.session())
    seen = refcache.fingerprints(_db.session(), (table,))
    _db.session.execute(text(statement))
    assert version(table) != before
    refcache.forget(_db.session())  # as the next transaction would
    assert refcache.fingerprints(_db.session(), (table,)) != seen


def test_a_rolled_back_version_is_never_seen_again(db):
    """A copy built inside a transaction that rolled back must not match a later change."""
    savepoint = _db.session.begin_nested()
    _db.session.execute(text("UPDATE categories SET name_en = 'rolled back' WHERE code = 'HW-PRN'"))
    rolled_back = version("categories")
    savepoint.rollback()
    _db.session.execute(text("UPDATE categories SET name_en = 'kept' WHERE code = 'HW-PRN'"))
    assert version("categories") != rolled_back


def test_a_table_without_a_version_is_checked_by_its_contents(db):
    _db.session.execute(text("DELETE FROM ref_versions WHERE name = 'closures'"))
    refcache.forget(_db.session())
    empty = refcache.fingerprints(_db.session(), ("closures",))
    _db.session.execute(text("INSERT INTO closures (day, description) "
                             "VALUES ('2031-01-02', 'Χιονόπτωση')"))
    refcache.forget(_db.session())
    assert refcache.fingerprints(_db.session(), ("closures",)) != empty


def test_writers_of_two_cached_tables_in_opposite_orders_do_not_deadlock(app):
    """Two transactions that write the same two cached tables in opposite orders: one waits
    for the other and both succeed. The version rows are taken together, in one order,
    before a statement touches its table (PostgreSQL; SQLite has a single writer)."""
    with app.app_context():
        engine = _db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL runs only: SQLite lets one writer in at a time")
    # Each writer its own rows: without the versions the two would never wait for each other.
    touch = {(table, end): f"UPDATE {table} SET {column} = {column} "
                           f"WHERE id = (SELECT {end}(id) FROM {table})"
             for table, column in (("directorates", "short_name_el"), ("categories", "name_en"))
             for end in ("min", "max")}
    errors: list[BaseException] = []

    def other_writer(started: threading.Event) -> None:
        try:
            with engine.connect() as conn, conn.begin() as transaction:
                conn.exec_driver_sql("SET lock_timeout = '20s'")
                started.set()
                conn.exec_driver_sql(touch["categories", "max"])
                conn.exec_driver_sql(touch["directorates", "max"])
                transaction.rollback()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            started.set()

    with engine.connect() as conn, conn.begin() as transaction:
        conn.exec_driver_sql("SET lock_timeout = '20s'")
        conn.exec_driver_sql(touch["directorates", "min"])
        started = threading.Event()
        thread = threading.Thread(target=other_writer, args=(started,))
        thread.start()
        started.wait(10)
        # Let the other writer reach its first statement (and, before the fix, take the
        # categories' version row and rows, then wait for the directorates').
        time.sleep(0.5)
        try:
            conn.exec_driver_sql(touch["categories", "min"])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        transaction.rollback()
    thread.join(30)
    assert not thread.is_alive()
    assert not errors, errors
