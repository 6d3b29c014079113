"""Machine-written reasons, stored as a code and parameters, shown in the reader's language.

A person's reason is stored as they wrote it (``TicketEvent.reason``). What the system
writes (the SLA sweep's automatic escalation) is stored as ``reason_code`` and
``reason_params`` too, and rendered here through the catalogues, so a Greek reader reads
Greek and an English reader English; ``reason`` keeps the text first written, for readers
that know no codes (webhooks, exports).
"""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import ngettext

from helpdesk.core.display import CHANNEL_WORDS

SLA_LEVEL_TIME_OUT = "sla.level_time_out"


def sla_level_time_out(level: int, minutes: int | None) -> tuple[str, dict]:
    """(code, params) of an automatic escalation because ``level``'s time ran out."""
    params: dict = {"level": int(level)}
    if minutes is not None:
        params["minutes"] = int(minutes)
    return SLA_LEVEL_TIME_OUT, params


def _level_time_out(params: dict) -> str:
    level, minutes = int(params["level"]), params.get("minutes")
    if isinstance(minutes, int):
        return ngettext("Automatic escalation: level %(level)s time ran out "
                        "(%(num)s working minute).",
                        "Automatic escalation: level %(level)s time ran out "
                        "(%(num)s working minutes).", minutes, level=level)
    return _("Automatic escalation: level %(level)s time ran out.", level=level)


FILED_ON_BEHALF = "ticket.filed_on_behalf"


def filed_on_behalf(name: str, channel: str) -> tuple[str, dict]:
    """(code, params) of a request support staff filed for the school: who, and how the
    school asked (a Channel value)."""
    return FILED_ON_BEHALF, {"name": str(name), "channel": str(channel)}


def _filed_on_behalf(params: dict) -> str:
    channel = params["channel"]
    return _("Filed by %(name)s on behalf of the school (%(channel)s).", name=params["name"],
             channel=str(CHANNEL_WORDS.get(channel, channel)))


RENDERERS: dict[str, Callable[[dict], str]] = {SLA_LEVEL_TIME_OUT: _level_time_out,
                                               FILED_ON_BEHALF: _filed_on_behalf}


def render(code: str | None, params: dict | None) -> str | None:
    """The text of a reason code in the current locale; None for an unknown code or
    parameters it cannot use (the stored text is shown instead)."""
    renderer = RENDERERS.get(code or "")
    if renderer is None:
        return None
    try:
        return renderer(dict(params or {}))
    except (KeyError, TypeError, ValueError):
        return None


def text_of(event) -> str | None:
    """An event's reason as its reader should read it: the rendered code, else the text."""
    return render(event.reason_code, event.reason_params) or event.reason
