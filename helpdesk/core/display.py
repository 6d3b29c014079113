"""Template helpers: Athens time, labels in the user's language, safe line breaks."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlencode

from flask import Flask, has_request_context, request
from flask_babel import (
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    get_translations,
)
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup, escape

from helpdesk.core import localtime

STATUS_LABELS = {
    "new": _l("New"), "open": _l("In progress"), "waiting": _l("Waiting on the school"),
    "resolved": _l("Resolved"), "closed": _l("Closed"),
}
PRIORITY_LABELS = {1: _l("Low"), 2: _l("Normal"), 3: _l("High"), 4: _l("Urgent")}
LEVEL_LABELS = {1: _l("Level 1"), 2: _l("Level 2"), 3: _l("Level 3")}
QUEUE_LABELS = {
    "unassigned": _l("New / unassigned"), "mine": _l("Mine"),
    "waiting": _l("Waiting on the school"), "breaching": _l("About to breach"),
    "escalated": _l("Escalated by my unit"),
    "open": _l("All open"), "all": _l("All"),
}
ROLE_LABELS = {"school": _l("School"), "technician": _l("Technician"),
               "manager": _l("Unit manager"), "admin": _l("Administrator")}
EVENT_LABELS = {
    "created": _l("Request filed"), "claim": _l("Claimed"), "assign": _l("Assigned"),
    "await_school": _l("Waiting on the school"), "school_reply": _l("The school answered"),
    "escalate": _l("Escalated"), "return": _l("Returned to a lower level"),
    "resolve": _l("Resolved"), "reopen": _l("Reopened"), "close": _l("Closed"),
    "priority": _l("Priority changed"), "category": _l("Category changed"),
    "incident": _l("Known outage"),
    "confirm": _l("The school confirmed the resolution"), "rating": _l("The school's rating"),
}
#: How a request reached us (helpdesk.tickets.states.Channel): a label, and the word
#: of the sentence «Filed by … on behalf of the school (by phone)».
CHANNEL_LABELS = {"web": _l("Web"), "email": _l("E-mail"), "api": _l("API"),
                  "phone": _l("Phone"), "visit": _l("Visit"), "other": _l("Other channel")}
#: How a school confirmed a resolution (Ticket.confirmed_via).
CONFIRMED_VIA_LABELS = {"web": _l("on the request's page"), "link": _l("by the e-mail's link"),
                        "email": _l("by replying to the e-mail")}
CHANNEL_WORDS = {"web": _l("on the web"), "email": _l("by e-mail"), "api": _l("through the API"),
                 "phone": _l("by phone"), "visit": _l("during a visit"),
                 "other": _l("another way")}

#: Known outages (helpdesk.incidents.rules): statuses and kinds of scope.
INCIDENT_STATUS_LABELS = {"investigating": _l("Investigating"), "identified": _l("Identified"),
                          "monitoring": _l("Monitoring"), "resolved": _l("Resolved")}
SCOPE_LABELS = {"country": _l("The whole country"), "regions": _l("Regions"),
                "directorates": _l("Directorates"), "partners": _l("Partners' areas"),
                "schools": _l("Schools")}


ATHENS = localtime.DEFAULT_ZONE  # the default of BABEL_DEFAULT_TIMEZONE; see localtime.zone()
#: The all-digit Babel patterns the templates use, as the same output built directly:
#: no locale is involved, and skipping Babel's pattern parser makes a 50-row queue cheap.
_DIGIT_PATTERNS = {
    "dd/MM/yyyy HH:mm": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d} {d.hour:02d}:{d.minute:02d}",
    "dd/MM/yyyy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}",
}


def athens(value: datetime | None, fmt: str = "dd/MM/yyyy HH:mm") -> str:
    """A UTC timestamp shown in the local zone (BABEL_DEFAULT_TIMEZONE); naive means UTC."""
    if not value:
        return ""
    build = _DIGIT_PATTERNS.get(fmt)
    if build is None or not isinstance(value, datetime):
        return format_datetime(value, fmt)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return build(value.astimezone(localtime.zone()))


def localized(obj, attr: str = "name") -> str:
    """``obj.name_en`` in English when it exists, else ``obj.name_el``."""
    if obj is None:
        return ""
    if str(get_locale()) == "en" and getattr(obj, f"{attr}_en", None):
        return getattr(obj, f"{attr}_en")
    return getattr(obj, f"{attr}_el", None) or getattr(obj, attr, "")


def translated(labels: dict) -> dict:
    """A label mapping with its lazy strings translated now, once (for a loop of rows)."""
    return {key: str(value) for key, value in labels.items()}


def localized_by_id(objs, attr: str = "name") -> dict:
    """``{obj.id: localized(obj)}`` for many objects, the locale looked up once."""
    english = str(get_locale()) == "en"
    out = {}
    for obj in objs:
        if obj is not None and obj.id not in out:
            name_en = getattr(obj, f"{attr}_en", None) if english else None
            out[obj.id] = name_en or getattr(obj, f"{attr}_el", None) or getattr(obj, attr, "")
    return out


def decimal(value: float | None, digits: int = 0) -> str:
    """A number in the reader's format: "1.234,5" in Greek, "1,234.5" in English."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def percent(value: float | None, digits: int = 1) -> str:
    """A value already in percent (66.7) as "66,7%" in Greek."""
    if value is None:
        return ""
    return format_percent(value / 100, format="#,##0" + ("." + "0" * digits if digits else "") + "%")


def linebreaks(text: str | None) -> Markup:
    """Escape the text, then keep its line breaks."""
    return Markup("<br>").join(escape(line) for line in (text or "").split("\n"))


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return request.path + ("?" + urlencode(args) if args else "")


def options(choices, selected=None) -> Markup:
    """The ``<option>`` elements of ``choices`` ((value, label) pairs) with the one whose
    value equals ``selected`` as text marked selected. The escaped elements are built once
    per list of choices: a staff queue's filters and bulk form hold some 250 options, and
    looping over them in Jinja took a third of the page's template time."""
    parts = _option_parts(tuple((value, str(label)) for value, label in choices))
    chosen = "" if selected is None else str(selected)
    return Markup("".join(f"{head} selected{tail}" if value == chosen else head + tail
                          for value, head, tail in parts))


@lru_cache(maxsize=256)
def _option_parts(choices: tuple) -> tuple[tuple[str, str, str], ...]:
    return tuple((str(value), f'<option value="{escape(value)}"', f">{escape(label)}</option>")
                 for value, label in choices)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(athens=athens, localized=localized, linebreaks=linebreaks,
                                 translated=translated, decimal=decimal, percent=percent)
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS, PRIORITY_LABELS=PRIORITY_LABELS, LEVEL_LABELS=LEVEL_LABELS,
        QUEUE_LABELS=QUEUE_LABELS, ROLE_LABELS=ROLE_LABELS, EVENT_LABELS=EVENT_LABELS,
        CHANNEL_LABELS=CHANNEL_LABELS, INCIDENT_STATUS_LABELS=INCIDENT_STATUS_LABELS,
        SCOPE_LABELS=SCOPE_LABELS, CONFIRMED_VIA_LABELS=CONFIRMED_VIA_LABELS,
        url_with=url_with, options=options, current_locale=lambda: str(get_locale()),
    )
    app.context_processor(_bound_gettext)


def _bound_gettext() -> dict:
    """``_``/``gettext``/``ngettext`` bound to this request's catalogue once per render.

    Flask-Babel's callables look the catalogue up again (locale, domain, cache) for every
    string; a page has dozens of them. The same newstyle wrappers Jinja installs (autoescape
    and ``%(name)s`` formatting) are kept; outside a request the environment's own apply."""
    if not has_request_context():
        return {}
    catalogue = get_translations()
    return {"gettext": _new_gettext(catalogue.ugettext),
            "ngettext": _new_ngettext(catalogue.ungettext)}


def _new_gettext(func):
    """Jinja's newstyle gettext around ``func``: autoescaped, ``%(name)s`` filled."""

    @pass_context
    def gettext(context, string, /, **variables):
        text = context.call(func, string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext


def _new_ngettext(func):
    """Jinja's newstyle ngettext around ``func`` (``num`` is a variable too)."""

    @pass_context
    def ngettext(context, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        text = context.call(func, singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return ngettext
