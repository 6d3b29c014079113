"""Set-based reads and writes for the import: arrays and COPY on PostgreSQL, plain SQL elsewhere.

Why not plain ``IN (…)`` lists and multi-row ``INSERT … VALUES`` on PostgreSQL: psycopg parses
every statement longer than a few KB again on each call, in Python (``_split_query``), so
a 1,000-row insert of 20 columns costs ~0.3 s of client CPU before it is sent, and an
``IN`` list of 2,000 values is re-rendered and re-parsed each time as well. An array
parameter keeps the statement short, and COPY sends the rows as a stream.

Everything runs on the session's connection, so it joins the import's transaction.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

#: Values per IN list where arrays are not available (SQLite's limit is 32,766 variables).
IN_LIST = 2000


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def fetch_in(conn: Connection, columns: Sequence[Column], column: Column, values: Iterable) -> list:
    """Rows (mappings of ``columns``) whose ``column`` is one of ``values``."""
    values = list(values)
    if not values:
        return []
    if is_postgresql(conn):
        array = bindparam("values", values, type_=ARRAY(column.type))
        return conn.execute(select(*columns).where(column == any_(array))).mappings().all()
    found = []
    for i in range(0, len(values), IN_LIST):
        found += conn.execute(select(*columns).where(column.in_(values[i:i + IN_LIST]))
                              ).mappings().all()
    return found


def fetch_pairs(conn: Connection, columns: Sequence[Column], first: Column, second: Column,
                pairs: Iterable[tuple]) -> list:
    """Rows whose (``first``, ``second``) is one of ``pairs``, through an index on both.

    PostgreSQL joins the table to the unnested pairs: one index probe per pair. Two
    ``= ANY`` conditions instead would probe every combination of the two lists
    (5,000 serials × 8 manufacturers: 40,000 probes, 150 ms per chunk against 17 ms).
    """
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return []
    if is_postgresql(conn):
        keys = func.unnest(bindparam("firsts", [p[0] for p in pairs], type_=ARRAY(String)),
                           bindparam("seconds", [p[1] for p in pairs], type_=ARRAY(String))
                           ).table_valued("a", "b").render_derived(name="k")
        table = first.table
        stmt = select(*columns).select_from(
            table.join(keys, and_(first == keys.c.a, second == keys.c.b)))
        return conn.execute(stmt).mappings().all()
    found = []
    for i in range(0, len(pairs), IN_LIST):
        part = pairs[i:i + IN_LIST]
        found += conn.execute(select(*columns).where(
            second.in_({p[1] for p in part}), first.in_({p[0] for p in part}))).mappings().all()
    wanted = set(pairs)
    return [r for r in found if (r[first.name], r[second.name]) in wanted]


def insert_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys): COPY on PostgreSQL."""
    if not rows:
        return
    if is_postgresql(conn):
        _copy(conn, table, list(rows[0]), rows)
    else:
        conn.execute(insert(table), rows)


def insert_returning_ids(conn: Connection, table: Table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` and return their new ids (as a list, in no particular order).

    PostgreSQL: the ids are taken from the table's sequence in one statement and the rows
    are then COPied with them, so they are in the rows' order; elsewhere a multi-row
    ``INSERT … RETURNING`` (without asking for the input order, which would make SQLite
    run one statement per row).
    """
    if not rows:
        return []
    if is_postgresql(conn):
        sequence = func.pg_get_serial_sequence(table.name, "id")
        ids = conn.execute(select(func.nextval(sequence))
                           .select_from(func.generate_series(1, len(rows)))).scalars().all()
        _copy(conn, table, ["id", *rows[0]], ({"id": i, **row} for i, row in zip(ids, rows)))
        return ids
    return conn.execute(insert(table).returning(table.c.id), rows).scalars().all()


def _copy(conn: Connection, table: Table, names: list[str], rows: Iterable[dict]) -> None:
    """COPY rows into ``table`` (text format: the server parses each value by its column)."""
    as_json = {n for n in names if isinstance(table.c[n].type, JSON)}
    cols = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    sql = f"COPY {conn.dialect.identifier_preparer.format_table(table)} ({cols}) FROM STDIN"
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            if as_json:
                for row in rows:
                    copy.write_row([_json(row[n]) if n in as_json else row[n] for n in names])
            else:
                for row in rows:
                    copy.write_row([row[n] for n in names])
    finally:
        cursor.close()


def _json(value) -> str:
    """As SQLAlchemy's JSON type writes it (None too is JSON ``null``)."""
    if value == {}:
        return "{}"  # most imported items have no attributes
    return json.dumps(value, ensure_ascii=False)
