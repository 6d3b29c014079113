"""Full-text search of the library, one function per database, chosen by its dialect.

PostgreSQL: the generated ``kb_articles.search_tsv`` (configuration ``helpdesk_greek``:
unaccent, then the Greek snowball stemmer) matched with prefix terms, ranked by
``ts_rank`` (title weighs most), plus the trigram index on the folded title for typos.
SQLite: the FTS5 table ``kb_fts`` (diacritics removed) holding the article's words
stemmed by helpdesk.kb.rules, written here with the article (``index``), ranked by bm25;
typos by trigram similarity of the titles in Python (the database is small there).

Every search asks all the words first, then at least half of them (three words or
more), then any of them, then (only when nothing matched) a typo of the title. The callers filter what may be seen (``where``: SQL conditions on KbArticle); a search
returns (article id, score) pairs, best first, for them to load and snippet. Ticket
search shares the words, stems and match texts (helpdesk.core.fulltext).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, bindparam, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from helpdesk.core import fulltext
from helpdesk.core.fulltext import func_tsquery
from helpdesk.kb import rules
from helpdesk.kb.models import KbArticle

#: pg_trgm word similarity a title must reach to count as a typo of the query.
TYPO_THRESHOLD = 0.45
#: How much a typo match of the title weighs against full-text rank.
TYPO_WEIGHT = 0.5


#: PostgreSQL's text search configuration (made by the migration).
_CONFIG = fulltext.CONFIG
#: SQLite's FTS5 table (made by the migration, not mapped).
_FTS = table("kb_fts", column("rowid"))


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float


def index(session: Session, article: KbArticle) -> None:
    """Keep the database's full-text index current after ``article`` was written (flushed).
    PostgreSQL computes its tsvector itself; SQLite's FTS5 row is rewritten here."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("DELETE FROM kb_fts WHERE rowid = :id"), {"id": article.id})
    session.execute(
        text("INSERT INTO kb_fts (rowid, title, summary, body) VALUES (:id, :t, :s, :b)"),
        {"id": article.id, "t": rules.stem_text(article.title),
         "s": rules.stem_text(article.summary), "b": rules.stem_text(article.plain_text)})


def unindex(session: Session, article_id: int) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM kb_fts WHERE rowid = :id"), {"id": article_id})


def search(session: Session, query: str, where: list, *, limit: int = 20,
           weak_where: list | None = None) -> list[Hit]:
    """The articles matching ``query`` among those ``where`` allows, best first.
    ``weak_where``: more conditions for the weak passes (any one word, a typo), e.g. the
    request's category for suggestions, where one common word alone says little."""
    if not rules.query_words(query):
        return []
    backend = _BACKENDS.get(session.get_bind().dialect.name, _sqlite)
    return backend(session, query, where, limit, weak_where or [])


def _postgresql(session: Session, query: str, where: list, limit: int,
                weak_where: list) -> list[Hit]:
    words = rules.query_words(query)
    folded = " ".join(words)
    tsv = literal_column("kb_articles.search_tsv")
    tsq = func.to_tsquery(_CONFIG, bindparam("tsq", type_=String))
    rank = func.ts_rank(tsv, tsq, 1)
    for quorum in rules.quorums(len(words)):  # all the words, at least half, any
        weak = weak_where if quorum == 1 and len(words) > 1 else []
        stmt = (select(KbArticle.id, rank.label("score")).where(tsv.op("@@")(tsq), *where, *weak)
                .order_by(text("score DESC"), KbArticle.id).limit(limit))
        rows = session.execute(stmt, {"tsq": func_tsquery(rules.tsquery(words, quorum))}).all()
        if rows:
            return [Hit(r.id, float(r.score)) for r in rows]
    return _postgresql_typos(session, folded, where + weak_where, limit)


def _postgresql_typos(session: Session, folded: str, where: list, limit: int) -> list[Hit]:
    """Titles with a word like the query's (pg_trgm's word similarity). The candidates come
    from the trigram index first (a materialised CTE, with the planner told not to scan the
    table: it underrates the operator's cost and would filter every row by it)."""
    param = bindparam("folded", folded, type_=String)
    candidates = (select(KbArticle.id.label("id"))
                  .where(KbArticle.title_folded.op("%>")(param))
                  .cte("typo_candidates").prefix_with("MATERIALIZED"))
    score = TYPO_WEIGHT * func.word_similarity(param, KbArticle.title_folded)
    session.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true), "
                         "set_config('enable_seqscan', 'off', true)"), {"t": str(TYPO_THRESHOLD)})
    try:
        rows = session.execute(
            select(KbArticle.id, score.label("score"))
            .join(candidates, candidates.c.id == KbArticle.id).where(*where)
            .order_by(text("score DESC"), KbArticle.id).limit(limit)).all()
    finally:
        session.execute(text("SELECT set_config('enable_seqscan', 'on', true)"))
    return [Hit(r.id, float(r.score)) for r in rows]


def _sqlite(session: Session, query: str, where: list, limit: int,
            weak_where: list) -> list[Hit]:
    terms = rules.query_terms(query)
    score = literal_column("bm25(kb_fts, 10.0, 4.0, 1.0)")
    for quorum in rules.quorums(len(terms)):
        match = rules.fts5_match(terms, quorum)
        if not match:
            break
        weak = weak_where if quorum == 1 and len(terms) > 1 else []
        stmt = (select(KbArticle.id, score.label("score"))
                .select_from(_FTS.join(KbArticle, KbArticle.id == _FTS.c.rowid))
                .where(text("kb_fts MATCH :match").bindparams(bindparam("match", match)),
                       *where, *weak)
                .order_by(text("score"), KbArticle.id).limit(limit))
        rows = session.execute(stmt).all()
        if rows:
            # bm25 is negative, lower is better: turn it into "higher is better".
            return [Hit(r.id, -float(r.score)) for r in rows]
    return _sqlite_typos(session, query, where + weak_where, limit)


def _sqlite_typos(session: Session, query: str, where: list, limit: int) -> list[Hit]:
    rows = session.execute(select(KbArticle.id, KbArticle.title_folded).where(*where)).all()
    scored = [(rules.word_similarity(query, r.title_folded), r.id) for r in rows]
    best = sorted(((s, i) for s, i in scored if s >= TYPO_THRESHOLD), key=lambda p: (-p[0], p[1]))
    return [Hit(i, s * TYPO_WEIGHT) for s, i in best[:limit]]


_BACKENDS = {"postgresql": _postgresql, "sqlite": _sqlite}
