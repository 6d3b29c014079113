"""Working time in words, in the current language: "14 ώρες εργασίας",
"1 ημέρα και 2 ώρες εργασίας" (plural forms through ngettext)."""
from __future__ import annotations

from functools import lru_cache

from flask import has_app_context
from flask_babel import force_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

_DAY, _HOUR = 24 * 60, 60
#: The weekdays of the working-hours pages and the audit trail (0 = Monday).
WEEKDAYS = [(0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")),
            (4, _l("Friday")), (5, _l("Saturday")), (6, _l("Sunday"))]


def duration(minutes: float) -> str:
    """A length of time as at most two units: days and hours, or hours and minutes."""
    total = round(abs(minutes))
    days, rest = divmod(total, _DAY)
    hours, mins = divmod(rest, _HOUR)
    parts = []
    if days:
        parts.append(ngettext("%(num)d day", "%(num)d days", days))
    if hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    if mins and not days or not parts:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", mins))
    if len(parts) == 1:
        return parts[0]
    return gettext("%(first)s and %(second)s", first=parts[0], second=parts[1])


def working_duration(minutes: float) -> str:
    """``duration`` of working time: "14 ώρες εργασίας" (14 working hours)."""
    return gettext("%(duration)s of working time", duration=duration(minutes))


def escalation_reason(level: int, target_minutes: float | None) -> str:
    """The reason recorded, in Greek, with an automatic escalation from ``level``."""
    if not has_app_context():  # no catalogue to read: not cached, so it never sticks
        return _escalation_reason(level, target_minutes)
    return _cached_escalation_reason(level, target_minutes)


def _escalation_reason(level: int, target_minutes: float | None) -> str:
    with force_locale("el"):
        if target_minutes is None:
            return gettext("Automatic escalation: the time of level %(level)s ran out.",
                           level=level)
        return gettext("Automatic escalation: the time of level %(level)s ran out (%(time)s).",
                       level=level, time=working_duration(target_minutes))


#: A sweep escalates many tickets with the same few texts; switching the locale for each
#: would reload the catalogue each time.
_cached_escalation_reason = lru_cache(maxsize=256)(_escalation_reason)
