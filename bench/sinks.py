"""Where generated rows go: PostgreSQL through COPY, or SQLite through executemany.

Rows arrive as tuples of strings already in COPY text form (``\\N`` for NULL, ``t``/``f``
for booleans, ``YYYY-MM-DD HH:MM:SS+00`` for timestamps); the SQLite sink converts back.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

NULL = "\\N"
BOOL_COLUMNS = {"is_active", "is_active_account", "is_manager", "is_internal", "is_pending",
                "first_response_breached", "resolution_breached"}
MARKER_TABLE = "bench_generated"


def open_sink(url: str):
    if url.startswith("sqlite"):
        return SqliteSink(url)
    return PgSink(url)


def _plain_pg(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


class PgSink:
    kind = "postgresql"

    def __init__(self, url: str):
        import psycopg

        self.psycopg = psycopg
        self.url = _plain_pg(url)
        parts = urlsplit(self.url)
        self.dbname = parts.path.lstrip("/")
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.safe_url = urlunsplit(parts._replace(netloc=parts.hostname + (
            f":{parts.port}" if parts.port else "")))
        self.conn = None
        self.dropped: list[tuple[str, str, str]] = []

    # -- life cycle ------------------------------------------------------------------------
    def _connect(self):
        self.conn = self.psycopg.connect(self.url, autocommit=True)
        self.conn.execute("SET synchronous_commit = off")
        self.conn.execute("SET maintenance_work_mem = '512MB'")

    def has_marker(self, tickets: int, seed: int) -> bool:
        try:
            with self.psycopg.connect(self.url, autocommit=True) as c:
                row = c.execute(f"SELECT tickets, seed FROM {MARKER_TABLE}").fetchone()
        except self.psycopg.Error:
            return False
        return row is not None and tuple(row) == (tickets, seed)

    def recreate(self, migrate: Callable[[str], object]) -> None:
        with self.psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.dbname}"')
        migrate(self.url)
        self._connect()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- reads -----------------------------------------------------------------------------
    def query(self, sql: str) -> list[tuple]:
        return self.conn.execute(sql).fetchall()

    def has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]

    def columns(self, table: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            (table,))]

    # -- writes ----------------------------------------------------------------------------
    def copy(self, table: str, cols: tuple[str, ...], rows: Iterable[tuple]) -> int:
        lines = ["\t".join(r) for r in rows]
        if not lines:
            return 0
        data = ("\n".join(lines) + "\n").encode()
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                step = 8 << 20
                for i in range(0, len(data), step):
                    cp.write(data[i:i + step])
        return len(lines)

    def fork(self) -> PgSink:
        """Another connection to the same database, set up for bulk loading."""
        other = PgSink(self.url)
        other._connect()
        other.conn.execute("SET session_replication_role = replica")
        return other

    def before_bulk(self, tables: list[str]) -> None:
        """Foreign-key triggers off; secondary indexes (not backing constraints) dropped."""
        self.conn.execute("SET session_replication_role = replica")
        rows = self.conn.execute("""
            SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
              JOIN pg_class t ON t.oid = x.indrelid
             WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
             ORDER BY t.relname, i.relname""", (tables,)).fetchall()
        for _table, index, _definition in rows:
            self.conn.execute(f'DROP INDEX "{index}"')
        self.dropped = [tuple(r) for r in rows]
        self.bulk_tables = tables

    def after_bulk(self, log=print) -> None:
        """Recreate the dropped indexes (two at a time: two cores), ANALYZE, reset sequences."""
        self.conn.execute("SET session_replication_role = origin")
        pending = sorted(self.dropped, key=lambda r: ("gin" not in r[2], r[0]))  # slow one first
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker():
            try:
                with self.psycopg.connect(self.url, autocommit=True) as c:
                    c.execute("SET maintenance_work_mem = '512MB'")
                    c.execute("SET max_parallel_maintenance_workers = 0")
                    while True:
                        with lock:
                            if not pending:
                                return
                            _table, _index, definition = pending.pop(0)
                        c.execute(definition)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        log(f"indexes ({len(self.dropped)})")
        # VACUUM, not only ANALYZE: it sets the visibility map, without which no index-only
        # scan is possible (the queue counts rely on them). A live server's autovacuum does
        # this in time; this one may have autovacuum off, and a fresh bulk load always needs it.
        self.conn.execute("VACUUM (ANALYZE)")
        log("vacuum+analyze")
        for (table,) in self.conn.execute("""
                SELECT table_name FROM information_schema.columns
                 WHERE table_schema = 'public' AND column_name = 'id'
                   AND column_default LIKE 'nextval%%'""").fetchall():
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")
        log("sequences")

    def write_marker(self, tickets: int, seed: int, facts: dict) -> None:
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
                          "(tickets integer, seed integer, facts text)")
        self.conn.execute(f"DELETE FROM {MARKER_TABLE}")
        self.conn.execute(f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, %s)",
                          (tickets, seed, json.dumps(facts, ensure_ascii=False)))


def _sqlite_value(col: str):
    if col in BOOL_COLUMNS:
        return lambda v: None if v == NULL else (1 if v == "t" else 0)
    if col.endswith("_at") or col == "at":
        return lambda v: None if v == NULL else v.removesuffix("+00") + ".000000"
    return lambda v: None if v == NULL else (_unescape(v) if "\\" in v else v)


def _unescape(v: str) -> str:
    out, i = [], 0
    while i < len(v):
        ch = v[i]
        if ch == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "t": "\t", "r": "\r"}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class SqliteSink:
    kind = "sqlite"

    def __init__(self, url: str):
        self.url = url
        self.safe_url = url
        self.path = url.split(":///", 1)[1]
        self.conn = None

    def has_marker(self, tickets: int, seed: int) -> bool:
        if not os.path.exists(self.path):
            return False
        try:
            c = sqlite3.connect(self.path)
            row = c.execute(f"SELECT tickets, seed FROM {MARKER_TABLE}").fetchone()
            c.close()
        except sqlite3.Error:
            return False
        return row is not None and tuple(row) == (tickets, seed)

    def recreate(self, migrate) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)
        migrate(self.url)
        # The loader thread writes while the main thread generates (never at once).
        self.conn = sqlite3.connect(self.path, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = OFF")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.commit()
            self.conn.close()
            self.conn = None

    def query(self, sql: str) -> list[tuple]:
        return self.conn.execute(sql).fetchall()

    def has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                                 (name,)).fetchone() is not None

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]

    def copy(self, table: str, cols: tuple[str, ...], rows: Iterable[tuple]) -> int:
        conv = [_sqlite_value(c) for c in cols]
        data = [tuple(f(v) for f, v in zip(conv, r, strict=True)) for r in rows]
        marks = ", ".join("?" for _ in cols)
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", data)
        return len(data)

    def fork(self) -> SqliteSink:
        return self

    def before_bulk(self, tables) -> None:
        pass

    def after_bulk(self, log=print) -> None:
        self.conn.commit()
        self.conn.execute("ANALYZE")
        log("analyze")

    def write_marker(self, tickets: int, seed: int, facts: dict) -> None:
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
                          "(tickets integer, seed integer, facts text)")
        self.conn.execute(f"DELETE FROM {MARKER_TABLE}")
        self.conn.execute(f"INSERT INTO {MARKER_TABLE} VALUES (?, ?, ?)",
                          (tickets, seed, json.dumps(facts, ensure_ascii=False)))
        self.conn.commit()


def read_facts(url: str) -> dict:
    """The facts the generator recorded (who to log in as, which tickets to open)."""
    if url.startswith("sqlite"):
        c = sqlite3.connect(url.split(":///", 1)[1])
        row = c.execute(f"SELECT tickets, facts FROM {MARKER_TABLE}").fetchone()
        c.close()
    else:
        import psycopg

        with psycopg.connect(_plain_pg(url)) as c:
            row = c.execute(f"SELECT tickets, facts FROM {MARKER_TABLE}").fetchone()
    facts = json.loads(row[1])
    facts["tickets"] = row[0]
    return facts
