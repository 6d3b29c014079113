"""Notification mail in the recipient's language: subject, plain text and HTML.

The templates are ``templates/mail/{subject,ticket}.<locale>.{txt,html}``; they are
rendered under ``force_locale`` so dates, status and unit names come out in that language
too. The HTML is autoescaped; every value that reaches a header goes through
``header_text`` first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app, render_template
from flask_babel import force_locale

from helpdesk.notify.recipients import DEFAULT_LOCALE, LOCALES

#: Characters that end or fold a header line, or are invisible controls.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
SUBJECT_MAX = 250


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def header_text(value: str | None, limit: int = SUBJECT_MAX) -> str:
    """One line of text that can never break out of a mail header."""
    text = " ".join(_UNSAFE.sub(" ", value or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ticket_url(ref: str | None) -> str:
    base = (current_app.config.get("MAIL_BASE_URL") or "").rstrip("/")
    return f"{base}/tickets/{quote(ref or '')}"


def render(kind: str, locale: str, **context) -> Rendered:
    """Render notification ``kind`` for a reader of ``locale`` (context: ref, subject,
    school_name, unit, category, status, description, body, reason, actor_name)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    context.setdefault("url", ticket_url(context.get("ref")))
    context.setdefault("reopen_days", current_app.config.get("REOPEN_WINDOW_DAYS", 7))
    with force_locale(locale):
        context.update(kind=str(kind), lang=locale)
        subject = render_template(f"mail/subject.{locale}.txt", **context)
        text = render_template(f"mail/ticket.{locale}.txt", **context)
        html = render_template(f"mail/ticket.{locale}.html", **context)
    return Rendered(header_text(subject), text.strip() + "\n", html)
