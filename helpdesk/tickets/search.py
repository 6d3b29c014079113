"""Ticket search (issue 17): ranked Greek full text over the folded ref, subject,
description and school (``Ticket.search_text``), with helpdesk.core.fulltext — the
library's search, shared.

PostgreSQL: the generated ``tickets.search_tsv`` (configuration ``helpdesk_greek``,
subject weighted A, the rest B; GIN index with the ticket's stay units), every word of the
query as a whole stem (or a prefix, see ``match``), ranked by ``ts_rank``. SQLite: the FTS5 table ``ticket_fts`` (rowid = ticket id) of the stems of
``search_text``, written here with the ticket (``index``), ranked by bm25. A ticket
reference (ΑΡ-2026-000123) is matched exactly by the caller (helpdesk.tickets.queries).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, column, false, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from helpdesk.core import fulltext
from helpdesk.tickets.models import Ticket

_FTS = "ticket_fts"
_TSV = literal_column("tickets.search_tsv")


@dataclass(frozen=True)
class Match:
    #: The WHERE condition on Ticket.
    condition: object
    #: ORDER BY this (best first), or None when there is nothing to rank.
    rank: object | None
    #: The score itself (to select it), and whether a higher one is better.
    score: object | None = None
    higher_is_better: bool = True


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def index(session: Session, ticket_id: int, search_text: str, *, new: bool = False) -> None:
    """Keep the full-text index current after a ticket's ``search_text`` was written
    (``new``: a ticket just filed, with no row yet). PostgreSQL computes its tsvector
    itself; SQLite's FTS5 row is written here."""
    if _sqlite(session):
        fulltext.fts5_write(session, _FTS, ticket_id, new=new, body=search_text)


def unindex(session: Session, ticket_ids: list[int]) -> None:
    """Forget the tickets' words (their text was removed: helpdesk.ops.retention)."""
    if _sqlite(session) and ticket_ids:
        for start in range(0, len(ticket_ids), 500):
            chunk = [int(i) for i in ticket_ids[start:start + 500]]
            session.execute(text(f"DELETE FROM {_FTS} WHERE rowid IN "
                                 f"({', '.join(map(str, chunk))})"))


def prefix_may_find_more(session: Session, query: str) -> bool:
    """Whether asking again with prefixes (``match(…, prefix=True)``) may find what whole
    stems did not: on PostgreSQL, for a query with words (SQLite matches prefixes anyway)."""
    return not _sqlite(session) and bool(fulltext.query_words(query))


def match(session: Session, query: str, *, prefix: bool = False) -> Match | None:
    """Every word of ``query`` in the ticket's text; None when the query has no word to
    search for.

    PostgreSQL matches each word's whole stem («εκτυπωτές» finds «εκτυπωτή»), or its stem
    as a prefix when ``prefix`` (a word typed in part: the caller asks again so when the
    whole stems find nothing). Whole stems are what the index on (stay_units, search_tsv)
    answers with a unit's scope in one scan; a common prefix collects every match in the
    country first (≈45 ms for «εκτυπωτ» at 1M tickets, against ≈4 ms). SQLite's FTS5
    always matches prefixes."""
    words = fulltext.query_words(query)
    if not words:
        return None
    if not _sqlite(session):
        condition, rank = fulltext.pg_match(_TSV, words, name="ticket_tsq", prefix=prefix)
        return Match(condition, rank.desc(), rank)
    found = fulltext.fts5_rowids(_FTS, fulltext.query_terms(query), name="ticket_match")
    if found is None:
        return Match(false(), None)
    rowids, param = found
    fts = table(_FTS, column("rowid", Integer))
    rank = (select(func.bm25(literal_column(_FTS))).select_from(fts)
            .where(text(f"{_FTS} MATCH :ticket_match").bindparams(param),
                   fts.c.rowid == Ticket.id)
            .scalar_subquery())
    return Match(Ticket.id.in_(rowids), rank, rank, higher_is_better=False)  # bm25: lower is better
