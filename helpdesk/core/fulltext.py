"""Greek full-text search shared by the library (helpdesk.kb) and tickets.

The pure part — folded words, Greek stems, query terms, the passes of a query (all its
words, at least half, any), an FTS5 MATCH and a to_tsquery text — and the database part:

PostgreSQL: a tsvector in the configuration ``helpdesk_greek`` (made by the library's
migration: unaccent, then the Greek snowball stemmer) with a GIN index, matched with prefix
terms and ranked by ``ts_rank``. SQLite: an FTS5 table (diacritics removed) holding
``stem_text`` of the text, written by the application with the row, ranked by bm25.
"""
from __future__ import annotations

import itertools
import re

from sqlalchemy import Integer, String, bindparam, column, func, literal_column, text
from sqlalchemy.orm import Session

from helpdesk.core.text import fold

#: PostgreSQL's text search configuration (made by the library's migration).
CONFIG = literal_column("'helpdesk_greek'::regconfig")

#: Greek inflectional endings, folded (no accents, σ for ς), longest first. Stripping them
#: from both the indexed text and the query makes «εκτυπωτές», «εκτυπωτή», «εκτυπωτών»
#: and «ΕΚΤΥΠΩΤΗΣ» one term. Nouns and adjectives, then verbs and participles.
_SUFFIXES = tuple(sorted({
    # nouns, adjectives
    "ουσ", "εσ", "ασ", "οσ", "ησ", "ισ", "υσ", "ων", "ου", "οι", "αι", "ει", "εισ",
    "α", "ε", "η", "ι", "ο", "υ", "ω",
    "ια", "ιεσ", "ιων", "ιου", "ιουσ", "ιο", "ιοσ", "ιοι",
    "ατα", "ατοσ", "ατων", "εωσ", "εων", "εα",
    "αδεσ", "αδων", "αδα", "ηδεσ", "ηδων", "ουδεσ", "ουδων",
    "τητα", "τητασ", "τητεσ", "τητων",
    "ικοσ", "ικη", "ικο", "ικεσ", "ικα", "ικων", "ικου", "ικουσ", "ικοι", "ικησ",
    # verbs
    "ουμε", "ετε", "ουν", "ουνε", "ομαι", "εσαι", "εται", "ομαστε", "εστε", "ονται",
    "ουμαι", "ειται", "ουνται", "αμε", "ατε", "ανε", "αν",
    "ησα", "ησε", "ησαμε", "ησατε", "ησαν", "ησει", "ησουν", "ησουμε", "ησετε",
    "ηκε", "ηκαν", "θηκε", "θηκαν", "ηθηκε", "ηθηκαν", "στει", "θει", "θουν",
    "ουσε", "ουσαν", "ιζει", "ιζω", "ιζουν",
    "οντασ", "ωντασ", "μενοσ", "μενη", "μενο", "μενα", "μενεσ", "μενων", "μενου",
    "μενουσ", "μενοι", "μενησ",
}, key=len, reverse=True))
#: A stem keeps at least this many letters.
_MIN_STEM = 3
_GREEK = re.compile(r"[\u0370-\u03ff]")
WORD = re.compile(r"\w+", re.UNICODE)
#: Greek function words a query may contain but that find nothing useful (folded).
STOPWORDS = frozenset({
    "ο", "η", "το", "οι", "τα", "του", "τησ", "των", "τον", "την", "τη", "τουσ", "τισ",
    "και", "κι", "σε", "στο", "στη", "στην", "στον", "στα", "στουσ", "στισ", "με", "για",
    "να", "δεν", "μη", "μην", "απο", "ενα", "ενασ", "μια", "μιασ", "που", "θα", "ειναι",
    "ή", "αν", "ωσ", "οτι", "πωσ", "τι", "εχει", "εχω", "a", "an", "the", "of", "and",
    "or", "to", "in", "on", "for", "is",
})


def stem(word: str) -> str:
    """The stem of one folded word: the longest known Greek ending removed, at least
    three letters kept. Latin words and numbers are left as they are."""
    if len(word) <= _MIN_STEM or not _GREEK.search(word):
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def words(text: str | None) -> list[str]:
    """The folded words of a text (accents, case and final sigma gone)."""
    return WORD.findall(fold(text))


def stem_text(text: str | None) -> str:
    """The text as the SQLite index keeps it: folded stems separated by spaces."""
    return " ".join(stem(w) for w in words(text))


def query_words(query: str | None, limit: int = 8) -> list[str]:
    """The folded words of a query worth searching for: no function words (unless the
    query has nothing else), no repeats, at most ``limit``."""
    found = words(query)
    useful = [w for w in found if w not in STOPWORDS] or found
    return list(dict.fromkeys(useful))[:limit]


def query_terms(query: str | None, limit: int = 8) -> list[str]:
    """The stems of ``query_words``: what both backends search for (as prefixes)."""
    return list(dict.fromkeys(stem(w) for w in query_words(query, limit)))


def quorums(count: int) -> list[int]:
    """How many of ``count`` words a match must hold, pass after pass: all of them, then
    at least half (from three words on: selective, and better than any one word), then
    any one."""
    return sorted({count, max(1, -(-count // 2)) if count >= 3 else count, 1}, reverse=True)


def _at_least(parts: list[str], quorum: int, and_: str, or_: str) -> str:
    if quorum >= len(parts):
        return and_.join(parts)
    if quorum <= 1:
        return or_.join(parts)
    return or_.join("(" + and_.join(group) + ")"
                    for group in itertools.combinations(parts, quorum))


def fts5_match(terms: list[str], quorum: int | None = None) -> str:
    """An FTS5 MATCH expression: at least ``quorum`` (default all) of the terms, each as a
    quoted prefix."""
    quoted = [f'"{t}"*' for t in terms if t.replace("_", "").isalnum()]
    return _at_least(quoted, quorum or len(quoted), " AND ", " OR ")


def tsquery(query_words_: list[str], quorum: int | None = None, *, prefix: bool = True) -> str:
    """A to_tsquery() text: at least ``quorum`` (default all) of the words, each as a
    prefix (``prefix``) or as the whole stem; words are \\w+ only."""
    end = ":*" if prefix else ""
    parts = [f"{w}{end}" for w in query_words_ if w.replace("_", "").isalnum()]
    return _at_least(parts, quorum or len(parts), " & ", " | ")



# --- the databases ---------------------------------------------------------------------------

def func_tsquery(expression: str) -> str:
    """The to_tsquery text, never empty (an empty one matches nothing, with a notice)."""
    return expression or "''"


def pg_match(tsv, query_words_: list[str], quorum: int | None = None, *, name: str = "tsq",
             prefix: bool = True):
    """(condition, rank) of a tsvector expression against the words (prefixes, or whole
    stems when not ``prefix``: a GIN index answers a whole stem from its posting list and
    together with the index's other columns, a prefix only by collecting every match
    first)."""
    tsq = func.to_tsquery(CONFIG, bindparam(name, func_tsquery(
        tsquery(query_words_, quorum, prefix=prefix)), type_=String))
    return tsv.op("@@")(tsq), func.ts_rank(tsv, tsq, 1)


def fts5_rowids(fts_table: str, terms: list[str], quorum: int | None = None, *,
                name: str = "match"):
    """(rowids matching, bm25 of a rowid) of an FTS5 table for the terms; None when the
    terms make no MATCH expression. The rank is ``bm25`` of the row (lower is better)."""
    match = fts5_match(terms, quorum)
    if not match:
        return None
    param = bindparam(name, match)
    rowids = text(f"SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH :{name}") \
        .bindparams(param).columns(column("rowid", Integer))
    return rowids, param


def fts5_write(session: Session, fts_table: str, rowid: int, *, new: bool = False,
               **columns: str) -> None:
    """Rewrite the FTS5 row ``rowid`` with ``stem_text`` of each column's text (``new``:
    there is none yet)."""
    if not new:
        session.execute(text(f"DELETE FROM {fts_table} WHERE rowid = :id"), {"id": rowid})
    names = ", ".join(columns)
    params = ", ".join(f":{c}" for c in columns)
    session.execute(text(f"INSERT INTO {fts_table} (rowid, {names}) VALUES (:id, {params})"),
                    {"id": rowid, **{c: stem_text(v) for c, v in columns.items()}})
