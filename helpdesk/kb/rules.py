"""The library's pure rules: Greek word stems, search terms, snippets, slugs, typos, diffs.

No Flask, no database. The SQLite search indexes ``stem_text`` of an article and asks
for ``query_terms`` of the query (FTS5 removes no Greek inflection by itself); both
backends highlight snippets with ``snippet``.
"""
from __future__ import annotations

import difflib
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


def fts5_match(terms: list[str], *, any_term: bool = False) -> str:
    """An FTS5 MATCH expression: every term (or any) as a quoted prefix."""
    quoted = [f'"{t}"*' for t in terms if t.replace("_", "").isalnum()]
    return (" OR " if any_term else " AND ").join(quoted)


def tsquery(query_words_: list[str], *, any_term: bool = False) -> str:
    """A to_tsquery() text: every word (or any) as a prefix; words are \\w+ only."""
    parts = [f"{w}:*" for w in query_words_ if w.replace("_", "").isalnum()]
    return (" | " if any_term else " & ").join(parts)


# --- snippets ------------------------------------------------------------------------------

def _tokens(text: str):
    """(start, end, stem) of every word of ``text``, with its place in the original."""
    for match in _WORD.finditer(text):
        folded = fold(match.group())
        yield match.start(), match.end(), stem(folded) if folded else ""


def _matches(word_stem: str, terms: list[str]) -> bool:
    return any(word_stem.startswith(t) for t in terms)


def snippet(text: str, terms: list[str], *, width: int = 30) -> Markup:
    """About ``width`` words of ``text`` around the best run of matching words, escaped,
    each matching word in <mark>. Escaping comes first: the text can hold anything."""
    tokens = list(_tokens(text or ""))
    if not tokens:
        return Markup("")
    hits = [i for i, tok in enumerate(tokens) if terms and _matches(tok[2], terms)]
    start = 0
    if hits:
        best = max(hits, key=lambda i: sum(1 for j in hits if i <= j < i + width))
        start = max(0, best - width // 4)
    end = min(len(tokens), start + width)
    hit_set = set(hits)
    out = [Markup("… ") if start else Markup("")]
    pos = tokens[start][0]
    for i in range(start, end):
        s, e, _ = tokens[i]
        out.append(escape(text[pos:s]))
        word = escape(text[s:e])
        out.append(Markup("<mark>%s</mark>") % word if i in hit_set else word)
        pos = e
    if end < len(tokens):
        out.append(Markup(" …"))
    return Markup("").join(out)


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
