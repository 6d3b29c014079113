"""Placeholders of canned replies, filled in (pure: no Flask, no database).

A placeholder is a name in braces, Greek or English, in any case and with or without
accents: ``{σχολείο}`` = ``{Σχολειο}`` = ``{school}``. A name this module does not know,
or one whose value is missing, stays in the text as it was typed, so the technician sees
it before sending. The result is plain text (replies are plain text, escaped where they
are shown); nothing here produces HTML.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

#: key -> the names that write it (the first is the one the forms show).
NAMES: dict[str, tuple[str, ...]] = {
    "school": ("σχολείο", "school"),
    "school_code": ("κωδικός", "code", "school_code"),
    "ref": ("αριθμός", "ref", "number"),
    "subject": ("θέμα", "subject"),
    "technician": ("τεχνικός", "technician"),
    "unit": ("μονάδα", "unit"),
    "category": ("κατηγορία", "category"),
}

_PATTERN = re.compile(r"\{([^{}\n]{1,40})\}")


def _key(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name.strip().casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("ς", "σ").replace(" ", "_")


_BY_NAME = {_key(name): key for key, names in NAMES.items() for name in names}


def key_of(name: str) -> str | None:
    """The placeholder ``name`` writes (``"Σχολείο"`` → ``"school"``), or None."""
    return _BY_NAME.get(_key(name))


def render(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with every known placeholder replaced by its value in ``values`` (keys of
    NAMES); unknown placeholders and those without a value are left as typed."""
    def fill(match: re.Match) -> str:
        key = key_of(match.group(1))
        value = values.get(key) if key else None
        return match.group(0) if value is None or value == "" else str(value)

    return _PATTERN.sub(fill, text or "")


def unknown(text: str) -> list[str]:
    """The placeholders of ``text`` this module does not know, as typed (for a warning
    when a canned reply is saved)."""
    seen: list[str] = []
    for match in _PATTERN.finditer(text or ""):
        if key_of(match.group(1)) is None and match.group(0) not in seen:
            seen.append(match.group(0))
    return seen
