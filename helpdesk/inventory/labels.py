"""Which equipment category a spreadsheet's label means (pure: no Flask, no database).

Labels are compared folded (accents, case, final sigma) with punctuation other than ``/``
turned into spaces, against every category's code, Greek and English names (with and
without their parenthesised parts, and those parts alone) and the synonyms of the
ministry's forms (``data/category_synonyms.csv``). In order:

1. the label is one of those names;
2. a known name appears in the label as whole words ("Σταθερός Η/Υ Dell"): the longest
   such name wins, and two categories tied for it match neither;
3. the label's words appear, in order, in the names of exactly one category
   ("Ασύρματο σημείο πρόσβασης" in "Ασύρματο σημείο πρόσβασης (Access Point)").

Otherwise there is no match, and ``closest`` names the categories that look nearest
(``difflib``, so a typo such as "Εκτυπωτις" still finds the printer).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from helpdesk.core.text import fold

_PUNCT = re.compile(r"[^\w/]+")
_PARENS = re.compile(r"\(([^)]*)\)")


def key(label: str | None) -> str:
    """The folded form labels are compared in: ``key("Σταθερός  Η/Υ.") == "σταθεροσ η/υ"``."""
    return " ".join(_PUNCT.sub(" ", fold(label)).split())


def name_variants(name: str) -> list[str]:
    """A category name, the name without its parenthesised parts, and each part alone."""
    variants = [name, _PARENS.sub(" ", name)]
    variants += _PARENS.findall(name)
    return [v for v in variants if key(v)]


class CategoryMatcher:
    """Labels -> category ids, built from (id, names) pairs and (label, id) synonyms."""

    def __init__(self, categories: Iterable[tuple[int, Iterable[str]]],
                 synonyms: Iterable[tuple[str, int]] = ()):
        #: key -> category id; a key two categories share is dropped from the names
        self.names: dict[str, int] = {}
        clashes: set[str] = set()
        for cat_id, names in categories:
            for name in names:
                for variant in name_variants(name or ""):
                    k = key(variant)
                    if self.names.get(k, cat_id) != cat_id:
                        clashes.add(k)
                    self.names.setdefault(k, cat_id)
        for k in clashes:
            del self.names[k]
        for label, cat_id in synonyms:  # the forms' labels decide between clashing names
            self.names[key(label)] = cat_id
        self._tokens = {k: k.split() for k in self.names}

    def match(self, label: str) -> int | None:
        k = key(label)
        if not k:
            return None
        if k in self.names:
            return self.names[k]
        words = k.split()
        found = self._longest_inside(words)
        if found is not None:
            return found
        return self._containing(words)

    def _longest_inside(self, words: list[str]) -> int | None:
        best_len, best = 0, set()
        for k, tokens in self._tokens.items():
            if _contains(words, tokens):
                if len(k) > best_len:
                    best_len, best = len(k), {self.names[k]}
                elif len(k) == best_len:
                    best.add(self.names[k])
        return next(iter(best)) if len(best) == 1 else None

    def _containing(self, words: list[str]) -> int | None:
        if len(words) < 2 and len(words[0]) < 4:
            return None
        ids = {self.names[k] for k, tokens in self._tokens.items() if _in_order(words, tokens)}
        return next(iter(ids)) if len(ids) == 1 else None

    def closest(self, label: str, n: int = 3) -> list[int]:
        """Up to ``n`` category ids whose names look most like ``label``, nearest first."""
        k = key(label)
        ids: list[int] = []
        for name in difflib.get_close_matches(k, list(self.names), n=20, cutoff=0.5):
            if self.names[name] not in ids:
                ids.append(self.names[name])
        if len(ids) < n:  # a word in common: a long label with one known word
            words = set(k.split())
            for name, tokens in self._tokens.items():
                if words & set(tokens) and self.names[name] not in ids and len(ids) < n:
                    ids.append(self.names[name])
        return ids[:n]


def _contains(words: list[str], tokens: list[str]) -> bool:
    """``tokens`` appear in ``words`` as a contiguous run."""
    n = len(tokens)
    return any(words[i:i + n] == tokens for i in range(len(words) - n + 1))


def _in_order(words: list[str], tokens: list[str]) -> bool:
    """``words`` appear in ``tokens`` in order (others may come between)."""
    it = iter(tokens)
    return all(w in it for w in words)
