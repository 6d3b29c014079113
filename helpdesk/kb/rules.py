"""The library's pure rules: Greek word stems, search terms, snippets, slugs, typos, diffs.

No Flask, no database. The SQLite search indexes ``stem_text`` of an article and asks
for ``query_terms`` of the query (FTS5 removes no Greek inflection by itself); both
backends highlight snippets with ``snippet``. The stems, query terms and match texts are
helpdesk.core.fulltext's (shared with ticket search), imported here by their names.
"""
from __future__ import annotations

import difflib
import functools
import re
import unicodedata

from markupsafe import Markup, escape

from helpdesk.core.fulltext import (  # noqa: F401 - the shared part, used here by these names
    STOPWORDS,
    WORD,
    fts5_match,
    query_terms,
    query_words,
    quorums,
    stem,
    stem_text,
    tsquery,
    words,
)
from helpdesk.core.text import fold

# --- snippets ------------------------------------------------------------------------------

#: Every way a folded Greek letter may be written (case, accents, diaeresis, final sigma).
_VARIANTS = {
    "α": "αάΑΆ", "ε": "εέΕΈ", "η": "ηήΗΉ", "ι": "ιίϊΐΙΊΪ", "ο": "οόΟΌ", "υ": "υύϋΰΥΎΫ",
    "ω": "ωώΩΏ", "σ": "σςΣ",
}


def _letter(ch: str) -> str:
    variants = _VARIANTS.get(ch) or (ch + ch.upper() if ch.upper() != ch else ch)
    return re.escape(ch) if len(variants) == 1 else f"[{re.escape(variants)}]"


def term_pattern(terms) -> re.Pattern | None:
    """A regular expression finding, in the original text, the words that begin with one
    of the folded ``terms`` (whatever their accents and case): fast on long texts."""
    return _term_pattern(tuple(sorted(set(terms), key=lambda t: (-len(t), t))))


@functools.lru_cache(maxsize=256)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern | None:
    alternatives = ["".join(_letter(ch) for ch in t) for t in terms if t]
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")\w*", re.IGNORECASE)


def snippet(text: str, terms: list[str], *, width: int = 30) -> Markup:
    """About ``width`` words of ``text`` around the best run of matching words, escaped,
    each matching word in <mark>. Escaping comes first: the text can hold anything."""
    text = text or ""
    pattern = term_pattern(terms)
    hits = [m.span() for m in pattern.finditer(text)] if pattern else []
    # the window: the words around the densest group of hits
    window_start, window_end = 0, len(text)
    if hits:
        starts = [h[0] for h in hits]
        best = max(range(len(starts)), key=lambda i: sum(
            1 for s in starts[i:i + width] if s - starts[i] < width * 8))
        window_start = _word_boundary_before(text, starts[best], width // 4)
    window_end = _word_boundary_after(text, window_start, width)
    out = [Markup("… ") if window_start > 0 else Markup("")]
    pos = window_start
    for s, e in hits:
        if s < window_start or e > window_end:
            continue
        out.append(escape(text[pos:s]))
        out.append(Markup("<mark>%s</mark>") % text[s:e])
        pos = e
    out.append(escape(text[pos:window_end]))
    if window_end < len(text):
        out.append(Markup(" …"))
    return Markup("").join(out)


def _word_boundary_before(text: str, index: int, words_before: int) -> int:
    """Where the word ``words_before`` words before ``index`` begins (0 near the start)."""
    low = max(0, index - 20 * words_before)
    starts = [m.start() for m in WORD.finditer(text, low, index)]
    if len(starts) >= words_before:
        return starts[-words_before]
    return 0 if low == 0 else (starts[0] if starts else index)


def _word_boundary_after(text: str, start: int, words: int) -> int:
    end = start
    for n, match in enumerate(WORD.finditer(text, start)):
        if n >= words:
            break
        end = match.end()
    return end if end > start else len(text)


def highlight(text: str, terms: list[str]) -> Markup:
    """The whole (short) text, escaped, matching words in <mark> (titles)."""
    return snippet(text, terms, width=10_000)


# --- typos ---------------------------------------------------------------------------------

def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one folded word: padded with two spaces before, one after."""
    padded = f"  {word} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def word_similarity(query: str, text: str) -> float:
    """How well each query word matches some word of ``text`` (0..1), averaged: the
    SQLite stand-in for pg_trgm's word_similarity on folded titles."""
    q_words = query_words(query)
    t_words = set(words(text))
    if not q_words or not t_words:
        return 0.0
    total = 0.0
    for qw in q_words:
        q = trigrams(qw)
        total += max(len(q & trigrams(tw)) / len(q | trigrams(tw)) for tw in t_words)
    return total / len(q_words)


# --- slugs, changes and differences -----------------------------------------------------

_GREEKLISH = str.maketrans({
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
})


def slugify(title: str, max_length: int = 80) -> str:
    """A Latin address for a title (ΕΛΟΤ 743 letters): «Εκτυπωτής HP» → ``ektypotis-hp``."""
    latin = fold(title).translate(_GREEKLISH)
    latin = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", latin.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "article"


#: The fields of an article a version records, in the order changes are listed.
VERSIONED_FIELDS = ("title", "summary", "body", "category_id", "audience", "status",
                    "equipment")


def changed_fields(before: dict, after: dict) -> list[str]:
    """Which of VERSIONED_FIELDS differ between two states of an article."""
    return [f for f in VERSIONED_FIELDS if before.get(f) != after.get(f)]


def line_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The lines of ``new`` against ``old``: ("same" | "added" | "removed", line)."""
    rows = []
    for line in difflib.ndiff((old or "").splitlines(), (new or "").splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            rows.append(("same", text))
        elif tag == "+ ":
            rows.append(("added", text))
        elif tag == "- ":
            rows.append(("removed", text))
    return rows
