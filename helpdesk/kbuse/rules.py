"""Pure rules of the library at work: the text of a guide inserted in a reply, the
guides a text links to, and the deflection rate. No Flask, no database."""
from __future__ import annotations

import re

#: A link to an article in a text: ``…/kb/<slug>`` (the slug of helpdesk.kb.rules.slugify).
_ARTICLE_LINK = re.compile(r"/kb/([a-z0-9][a-z0-9-]{0,119})(?![a-z0-9-])")
#: Paths under /kb/ that are pages, not articles.
_NOT_ARTICLES = frozenset({"new", "pick"})


def linked_slugs(text: str | None, limit: int = 20) -> list[str]:
    """The article slugs ``text`` links to, in order, without repeats (at most ``limit``)."""
    found = [m.group(1) for m in _ARTICLE_LINK.finditer(text or "")]
    return [s for s in dict.fromkeys(found) if s not in _NOT_ARTICLES][:limit]


def inserted_text(title: str, url: str, summary: str) -> str:
    """What the picker puts in the reply box: the title and link, then the summary."""
    text = f"{title}: {url}"
    summary = (summary or "").strip()
    return f"{text}\n{summary}" if summary else text


def deflection_rate(deflections: int, filed_after_suggestions: int) -> float | None:
    """Requests not filed thanks to a guide, as a percentage of every filing that was shown
    suggestions: deflections / (deflections + requests filed after seeing suggestions)."""
    total = deflections + filed_after_suggestions
    return round(100.0 * deflections / total, 1) if total else None
