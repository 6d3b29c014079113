"""Bounds on what a request may carry, so that odd input is a 400/404 with a message and
never a 500 from the database or the calendar: whole numbers that fit an integer column
(INTEGER, signed 32 bits, on PostgreSQL; SQLite takes 64), dates a calendar can count
from, no NUL characters (PostgreSQL text cannot hold them), JSON of a sane depth."""
from __future__ import annotations

import json
import re
from datetime import date

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

from helpdesk.core.errors import BadInput

#: The range of an INTEGER column on PostgreSQL (ids, priorities, counts): beyond it the
#: database answers "integer out of range" (and SQLite "too large" beyond 64 bits).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: Dates outside these are refused (9999-12-31 + one day does not exist).
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2999, 12, 31)
#: Arrays and objects nested deeper than this in a JSON body are refused.
MAX_JSON_DEPTH = 32
_INT = re.compile(r"[+-]?[0-9]{1,20}")  # ASCII digits only: "²".isdigit() is True


def parse_int(value, *, low: int = INT_MIN, high: int = INT_MAX) -> int | None:
    """``value`` as an int if it is written in ASCII digits and lies in [low, high]."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if low <= number <= high else None


def bounded_int(value) -> int:
    """int() for ``args.get(type=…)`` and a form's ``coerce``: ValueError outside INTEGER."""
    number = parse_int(value)
    if number is None:
        raise ValueError("not a whole number that fits an INTEGER column")
    return number


def is_id(value) -> bool:
    """A positive whole number that fits an id column."""
    return parse_int(value, low=1) is not None


def parse_date(value: str | None) -> date | None:
    """A YYYY-MM-DD date; None when empty or malformed; BadInput when out of range."""
    try:
        day = date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None
    if day is not None and not MIN_DATE <= day <= MAX_DATE:
        raise BadInput(_l("Dates must lie between %(low)s and %(high)s."),
                       low=MIN_DATE.isoformat(), high=MAX_DATE.isoformat())
    return day


def date_in_bounds(form, field) -> None:
    """A WTForms validator: the date lies between MIN_DATE and MAX_DATE."""
    if field.data is not None and not MIN_DATE <= field.data <= MAX_DATE:
        raise ValidationError(_l("Dates must lie between %(low)s and %(high)s.")
                              % {"low": MIN_DATE.isoformat(), "high": MAX_DATE.isoformat()})


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` for ids: a number no id column can hold becomes 0, which no row has,
    so the view answers 404 as for any unknown id. (Refusing the match instead would
    let another rule of the same path answer 405 Method Not Allowed.)"""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if INT_MIN <= number <= INT_MAX else 0


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered (their rules bind the converter)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_bad_input)


_NUL = _l("The request contains a NUL character (\\0), which no text may hold. "
          "Remove it and try again.")


def refuse_bad_input() -> None:
    """NUL characters anywhere (path, query string, form fields, JSON) and deeply nested
    JSON are refused with a 400 before any view sees them."""
    if "\x00" in request.path or _has_nul(request.args.items(multi=True)):
        raise BadInput(_NUL)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if _has_nul(request.form.items(multi=True)):
            raise BadInput(_NUL)
    elif request.is_json:
        _check_json(request.get_data(cache=True))


def _has_nul(pairs) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def _check_json(raw: bytes) -> None:
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _nesting(raw) > MAX_JSON_DEPTH:
        raise BadInput(_l("The JSON body is nested too deeply (more than %(n)s levels)."),
                       n=MAX_JSON_DEPTH)
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        return  # malformed: the view says so in its own words
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            raise BadInput(_NUL)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _nesting(raw: bytes) -> int:
    """The deepest nesting of [ and { outside strings (a scan: no recursion to exhaust)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest
