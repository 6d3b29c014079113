"""Many rows in one short statement, for the batches of bulk jobs.

PostgreSQL: the rows go as one array per column and the statement reads them with
``unnest`` — ``INSERT … SELECT * FROM unnest(…)`` and ``UPDATE … FROM unnest(…)`` — so its
text is the same for every batch (compiled and converted once, prepared by the driver) and
each column is bound once, whatever the number of rows. An executemany or a multi-row
VALUES of a few hundred rows costs more in the client (the statement's text, compiled
and parsed again for each batch, with thousands of parameters bound one by one) than in
the server. SQLite, and a handful of rows on PostgreSQL: one executemany, which
SQLAlchemy sends as one INSERT … VALUES of a statement it compiled once per row count
(binding a few rows' values one by one costs less than adapting a list per column: a
ticket change's two mails, 0.3 against 0.8 ms of CPU).

The values are the Python values of the columns (aware datetimes for the UTC columns:
they are passed as they are, PostgreSQL stores timestamptz in UTC).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


#: Up to this many rows an INSERT on PostgreSQL is an executemany too (see above).
FEW_ROWS = 10


def _columns(rows: list[dict]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def _arrays(table: Table, names: list[str], rows: list[dict], dialect) -> tuple[list, dict]:
    """``CAST(:c_i AS type[])`` of each column, and the arrays bound to them."""
    casts, params = [], {}
    for i, name in enumerate(names):
        sql_type = table.c[name].type.compile(dialect=dialect)
        casts.append(f"CAST(:c_{i} AS {sql_type}[])")
        params[f"c_{i}"] = [row.get(name) for row in rows]
    return casts, params


def insert_rows(session: Session, table: Table, rows: list[dict], *,
                returning: Iterable[str] = (), on_conflict_do_nothing: str | None = None):
    """INSERT ``rows`` (dicts of column values) in one statement; the ``returning`` columns
    of the rows written (PostgreSQL: in no particular order), as Row objects.
    ``on_conflict_do_nothing``: the unique column whose duplicates are skipped (those
    already stored, and the later of two in ``rows``)."""
    returning = list(returning)
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or len(rows) <= FEW_ROWS:
        if dialect.name == "postgresql":  # a missing value is NULL, as in unnest's arrays
            names = _columns(rows)
            rows = [{n: row.get(n) for n in names} for row in rows]
        stmt = table.insert()
        if on_conflict_do_nothing:  # the dialect's own insert (sqlite or postgresql)
            stmt = _DIALECT_INSERT[dialect.name](table).on_conflict_do_nothing(
                index_elements=[table.c[on_conflict_do_nothing]])
        if returning:
            stmt = stmt.returning(*(table.c[c] for c in returning))
            return session.execute(stmt, rows).all()
        session.execute(stmt, rows)
        return []
    names = _columns(rows)
    casts, params = _arrays(table, names, rows, dialect)
    q = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {q(table.name)} ({', '.join(map(q, names))}) "
           f"SELECT * FROM unnest({', '.join(casts)})")
    if on_conflict_do_nothing:
        sql += f" ON CONFLICT ({q(on_conflict_do_nothing)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(map(q, returning))}"
        return session.execute(text(sql), params).all()
    session.execute(text(sql), params)
    return []


def update_rows(session: Session, table: Table, rows: list[dict], *, key: str = "id") -> None:
    """UPDATE the row of each of ``rows`` (found by its ``key`` column) with the row's other
    values, in one statement."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    names = _columns(rows)
    others = [n for n in names if n != key]
    if dialect.name != "postgresql":
        stmt = table.update().where(table.c[key] == bindparam(f"b_{key}")).values(
            {n: bindparam(f"b_{n}") for n in others})
        session.execute(stmt, [{f"b_{n}": row.get(n) for n in names} for row in rows])
        return
    casts, params = _arrays(table, names, rows, dialect)
    q = dialect.identifier_preparer.quote
    sets = ", ".join(f"{q(n)} = v.{q(n)}" for n in others)
    session.execute(text(
        f"UPDATE {q(table.name)} SET {sets} FROM unnest({', '.join(casts)}) "
        f"AS v ({', '.join(map(q, names))}) WHERE {q(table.name)}.{q(key)} = v.{q(key)}"),
        params)
