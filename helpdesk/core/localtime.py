"""The service's time zone and languages: one place, set from the settings at app setup.

``BABEL_DEFAULT_TIMEZONE`` (config/default.py) is the zone in which days begin and end
(census deadlines, report periods, ticket reference years, dates shown); ``LANGUAGES``
and ``BABEL_DEFAULT_LOCALE`` are the languages a person may choose and the fallback.
Pure modules call ``zone()`` without importing Flask; ``configure`` is called once by
``helpdesk.app_setup`` (the last app created in a process sets it).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

#: Until ``configure`` runs (pure tests, scripts): the values of config/default.py.
DEFAULT_ZONE = ZoneInfo("Europe/Athens")
_settings = {"zone": DEFAULT_ZONE, "languages": ("el", "en"), "default": "el"}


def configure(timezone: str, languages, default_locale: str) -> None:
    _settings.update(zone=ZoneInfo(timezone), languages=tuple(languages),
                     default=default_locale)


def zone() -> ZoneInfo:
    """The local time zone of the service (Europe/Athens by default)."""
    return _settings["zone"]


def languages() -> tuple[str, ...]:
    """The locales a person may choose, the default first as configured."""
    return _settings["languages"]


def default_locale() -> str:
    return _settings["default"]
