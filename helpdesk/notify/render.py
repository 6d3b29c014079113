"""Notification mail in the recipient's language: subject, plain text and HTML.

One template per kind, the same for every language: ``templates/mail/<kind>.txt`` (its
``subject`` block and its text) and, for ticket notifications, ``<kind>.html``. Their
words go through the gettext catalogues: they are rendered under ``force_locale`` of
the recipient, so the text, dates, status and unit names come out in that language.
The HTML is autoescaped; every value that reaches a header goes through
``header_text`` first.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound

from helpdesk.notify.recipients import pick_locale
from helpdesk.outbox.message import header_text


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def ticket_url(ref: str | None) -> str:
    base = (current_app.config.get("MAIL_BASE_URL") or "").rstrip("/")
    return f"{base}/tickets/{quote(ref or '')}"


def render(kind: str, locale: str, **context) -> Rendered:
    """Render notification ``kind`` for a reader of ``locale`` (context: what the kind's
    template names, e.g. ref, subject, school_name, unit, category, status, description,
    body, reason, actor_name). ``html`` is "" for a kind without an HTML template."""
    locale = pick_locale(locale)
    context.setdefault("url", ticket_url(context.get("ref")))
    context.setdefault("reopen_days", current_app.config.get("REOPEN_WINDOW_DAYS", 7))
    with force_locale(locale):
        context.update(kind=str(kind), lang=locale)
        subject = render_block(f"mail/{kind}.txt", "subject", context)
        text = render_template(f"mail/{kind}.txt", **context)
        try:
            html = render_template(f"mail/{kind}.html", **context)
        except TemplateNotFound:
            html = ""
    return Rendered(header_text(subject), text.strip() + "\n", html)


def render_block(name: str, block: str, context: dict) -> str:
    """One block of a template, with the app's template context (Jinja's Template.blocks)."""
    template = current_app.jinja_env.get_template(name)
    values = dict(context)
    current_app.update_template_context(values)
    return "".join(template.blocks[block](template.new_context(values)))


def template_names(kind: str) -> list[str]:
    """The templates of ``kind`` (for the check that every kind has them)."""
    names = [f"mail/{kind}.txt", f"mail/{kind}.html"]
    return [n for n in names if _exists(n)]


def _exists(name: str) -> bool:
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return False
    return True
