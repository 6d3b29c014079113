"""The library's pure rules: Greek word stems, search terms, snippets, slugs, typos, diffs.

No Flask, no database. The SQLite search indexes ``stem_text`` of an article and asks
for ``query_terms`` of the query (FTS5 removes no Greek inflection by itself); both
backends highlight snippets with ``snippet``.
"""
from __future__ import annotations

import difflib
import functools
import itertools
import re
import unicodedata

from markupsafe import Markup, escape

from helpdesk.core.text import fold

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
_WORD = re.compile(r"\w+", re.UNICODE)
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
    return _WORD.findall(fold(text))


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


def tsquery(query_words_: list[str], quorum: int | None = None) -> str:
    """A to_tsquery() text: at least ``quorum`` (default all) of the words, each as a
    prefix; words are \\w+ only."""
    parts = [f"{w}:*" for w in query_words_ if w.replace("_", "").isalnum()]
    return _at_least(parts, quorum or len(parts), " & ", " | ")


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
    starts = [m.start() for m in _WORD.finditer(text, low, index)]
    if len(starts) >= words_before:
        return starts[-words_before]
    return 0 if low == 0 else (starts[0] if starts else index)


def _word_boundary_after(text: str, start: int, words: int) -> int:
    end = start
    for n, match in enumerate(_WORD.finditer(text, start)):
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
