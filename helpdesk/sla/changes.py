"""What the audit log of the SLA settings says on the administrator's page: one line per
change (when, who, what, which object, which targets changed), in the reader's language."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from helpdesk.core.display import PRIORITY_LABELS, localized
from helpdesk.extensions import db
from helpdesk.org.models import Category, SupportUnit
from helpdesk.sla.wording import WEEKDAYS

#: What each audited action of the SLA settings is called.
ACTION_LABELS = {
    "sla.policy.save": _l("Default policy saved"),
    "sla.override.save": _l("Override saved"),
    "sla.override.update": _l("Override changed"),
    "sla.override.delete": _l("Override removed"),
    "sla.hours.seed": _l("Built-in working hours stored"),
    "sla.hours.add": _l("Working hours added"),
    "sla.hours.delete": _l("Working hours removed"),
    "sla.closure.add": _l("Closure added"),
    "sla.closure.delete": _l("Closure removed"),
}
#: A policy's fields, named as the columns of the policies table.
FIELD_LABELS = {
    "first_response_minutes": _l("First response"), "resolution_minutes": _l("Resolution"),
    "level1_minutes": _l("Level 1"), "level2_minutes": _l("Level 2"),
    "level3_minutes": _l("Level 3"), "warn_ratio": _l("Warn at"),
    "action_on_level_breach": _l("Level breach"),
}


@dataclass(frozen=True)
class Change:
    at: datetime
    who: str
    what: str
    target: str
    details: list[str]


def _value(name: str, value) -> str:
    if value is None:
        return "—"
    if name == "warn_ratio":
        return f"{round(float(value) * 100)}%"
    if name == "action_on_level_breach":
        return _("Escalate") if value == "escalate" else _("Warn")
    return format_decimal(round(value / 60, 2), format="#,##0.##")  # working hours


def _unit(unit_id) -> str:
    unit = db.session.get(SupportUnit, unit_id) if unit_id is not None else None
    return localized(unit) if unit is not None else _("All units (default)")


def _target(entry) -> str:
    fields = entry.after or entry.before or {}
    if entry.object_type == "sla_policy":
        label = str(PRIORITY_LABELS.get(fields.get("priority"), fields.get("priority")))
        category = (db.session.get(Category, fields["category_id"])
                    if fields.get("category_id") else None)
        return f"{category.code} · {label}" if category is not None else label
    if entry.action == "sla.hours.seed":
        rows = len(fields.get("rows", []))
        return ngettext("%(num)d interval", "%(num)d intervals", rows)
    if entry.object_type == "business_hours":
        day = dict(WEEKDAYS).get(fields.get("weekday"), "")
        return (f"{_unit(fields.get('unit_id'))} · {day} "
                f"{fields.get('start_time')}–{fields.get('end_time')}")
    if entry.object_type == "closure":
        day = fields.get("day", "")
        shown = "/".join(reversed(day.split("-"))) if day else ""
        text = f"{shown} · {_unit(fields.get('unit_id'))}"
        return f"{text} · {fields['description']}" if fields.get("description") else text
    return entry.object_type


def _details(entry) -> list[str]:
    if entry.object_type != "sla_policy" or entry.after is None:
        return []
    before = entry.before or {}
    return [f"{label}: {_value(name, before[name])} → {_value(name, entry.after.get(name))}"
            if name in before else f"{label}: {_value(name, entry.after.get(name))}"
            for name, label in FIELD_LABELS.items()
            if name not in before or before[name] != entry.after.get(name)]


def describe(entries) -> list[Change]:
    """The audit entries of the SLA settings as the page shows them."""
    return [Change(e.at, e.actor.name if e.actor is not None else _("The system"),
                   str(ACTION_LABELS.get(e.action, e.action)), _target(e), _details(e))
            for e in entries]
