"""Full-text search of the library, one function per database, chosen by its dialect.

PostgreSQL: the generated ``kb_articles.search_tsv`` (configuration ``helpdesk_greek``:
unaccent, then the Greek snowball stemmer) matched with prefix terms, ranked by
``ts_rank`` (title weighs most), plus the trigram index on the folded title for typos.
SQLite: the FTS5 table ``kb_fts`` (diacritics removed) holding the article's words
stemmed by helpdesk.kb.rules, written here with the article (``index``), ranked by bm25;
typos by trigram similarity of the titles in Python (the database is small there).

Every search asks all the words first, then any of them, then (only when nothing
matched) a typo of the title. The callers filter what may be seen (``where``: SQL conditions on KbArticle); a search
returns (article id, score) pairs, best first, for them to load and snippet. Ticket
search can share the shape: a per-dialect function of (session, words, conditions).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, bindparam, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from helpdesk.kb import rules
from helpdesk.kb.models import KbArticle

#: pg_trgm word similarity a title must reach to count as a typo of the query.
TYPO_THRESHOLD = 0.45
#: How much a typo match of the title weighs against full-text rank.
TYPO_WEIGHT = 0.5


#: PostgreSQL's text search configuration (made by the migration).
_CONFIG = literal_column("'helpdesk_greek'::regconfig")
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


def search(session: Session, query: str, where: list, *, limit: int = 20) -> list[Hit]:
    """The articles matching ``query`` among those ``where`` allows, best first."""
    if not rules.query_words(query):
        return []
    backend = _BACKENDS.get(session.get_bind().dialect.name, _sqlite)
    return backend(session, query, where, limit)


def _postgresql(session: Session, query: str, where: list, limit: int) -> list[Hit]:
    words = rules.query_words(query)
    folded = " ".join(words)
    session.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
                    {"t": str(TYPO_THRESHOLD)})
    tsv = literal_column("kb_articles.search_tsv")
    tsq = func.to_tsquery(_CONFIG, bindparam("tsq", type_=String))
    folded_param = bindparam("folded", type_=String)
    similarity = func.word_similarity(folded_param, KbArticle.title_folded)
    passes = [  # all the words, any of them, then a typo in the title
        (tsv.op("@@")(tsq), func.ts_rank(tsv, tsq, 1) + 0.1 * similarity, False),
        (tsv.op("@@")(tsq), func.ts_rank(tsv, tsq, 1) + 0.1 * similarity, True),
        (folded_param.op("<%")(KbArticle.title_folded), TYPO_WEIGHT * similarity, False),
    ]
    for matched, score, any_term in passes:
        stmt = (select(KbArticle.id, score.label("score")).where(matched, *where)
                .order_by(text("score DESC"), KbArticle.id).limit(limit))
        params = {"tsq": func_tsquery(rules.tsquery(words, any_term=any_term)),
                  "folded": folded}
        rows = session.execute(stmt, params).all()
        if rows:
            return [Hit(r.id, float(r.score)) for r in rows]
    return []


def func_tsquery(expression: str) -> str:
    """The to_tsquery text, never empty (an empty one matches nothing, with a notice)."""
    return expression or "''"


def _sqlite(session: Session, query: str, where: list, limit: int) -> list[Hit]:
    terms = rules.query_terms(query)
    score = literal_column("bm25(kb_fts, 10.0, 4.0, 1.0)")
    for any_term in (False, True):
        match = rules.fts5_match(terms, any_term=any_term)
        if not match:
            break
        stmt = (select(KbArticle.id, score.label("score"))
                .select_from(_FTS.join(KbArticle, KbArticle.id == _FTS.c.rowid))
                .where(text("kb_fts MATCH :match").bindparams(bindparam("match", match)),
                       *where)
                .order_by(text("score"), KbArticle.id).limit(limit))
        rows = session.execute(stmt).all()
        if rows:
            # bm25 is negative, lower is better: turn it into "higher is better".
            return [Hit(r.id, -float(r.score)) for r in rows]
    return _sqlite_typos(session, query, where, limit)


def _sqlite_typos(session: Session, query: str, where: list, limit: int) -> list[Hit]:
    rows = session.execute(select(KbArticle.id, KbArticle.title_folded).where(*where)).all()
    scored = [(rules.word_similarity(query, r.title_folded), r.id) for r in rows]
    best = sorted(((s, i) for s, i in scored if s >= TYPO_THRESHOLD), key=lambda p: (-p[0], p[1]))
    return [Hit(i, s * TYPO_WEIGHT) for s, i in best[:limit]]


_BACKENDS = {"postgresql": _postgresql, "sqlite": _sqlite}
