"""What a report is asked for: the period (Athens dates), the grouping and the filters."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta

from helpdesk.core import bounds
from helpdesk.core.localtime import zone

PERIOD_GROUPINGS = ("month", "quarter", "school_year")
GROUPINGS = (*PERIOD_GROUPINGS, "level", "unit", "region", "directorate", "category", "priority",
             "channel")
#: Ticket.channel values (helpdesk.tickets.states.Channel), for the channel filter.
CHANNELS = ("web", "email", "api", "phone", "visit", "other")
STEPS = ("week", "month")
#: The longest period a report covers, so a bucket table stays small.
MAX_DAYS = 366 * 5


def athens_midnight(day: date) -> datetime:
    """The UTC instant at which ``day`` starts in Athens."""
    return datetime.combine(day, time(0), zone()).astimezone(UTC)


def _date(value: str | None) -> date | None:
    """A malformed date is ignored (the default stands); one out of range is refused."""
    return bounds.parse_date(value)


def _int(value: str | None) -> int | None:
    return bounds.parse_int(value)


def default_period(today: date) -> tuple[date, date]:
    """The last twelve whole months up to and including this month."""
    first = today.replace(day=1)
    year, month = (first.year - 1, first.month + 1) if first.month < 12 else (first.year, 1)
    return date(year, month, 1), today


@dataclass(frozen=True)
class ReportFilters:
    """A report request; ``date_to`` is inclusive; ids narrow the tickets counted."""

    date_from: date
    date_to: date
    grouping: str = "month"
    step: str = "month"
    level: int | None = None
    unit: int | None = None
    region: int | None = None
    directorate: int | None = None
    category: int | None = None
    priority: int | None = None
    #: How the requests reached us (a Channel value).
    channel: str | None = None

    @classmethod
    def from_args(cls, args, today: date) -> ReportFilters:
        """Read the query string, falling back to sane defaults for anything invalid."""
        start, end = default_period(today)
        date_from = _date(args.get("from")) or start
        date_to = _date(args.get("to")) or end
        if date_to < date_from:
            date_from, date_to = date_to, date_from
        if (date_to - date_from).days > MAX_DAYS:
            date_from = date_to - timedelta(days=MAX_DAYS)
        grouping = args.get("group", "month")
        step = args.get("step", "month")
        level = _int(args.get("level"))
        return cls(
            date_from=date_from, date_to=date_to,
            grouping=grouping if grouping in GROUPINGS else "month",
            step=step if step in STEPS else "month",
            level=level if level in (1, 2, 3) else None,
            unit=_int(args.get("unit")), region=_int(args.get("region")),
            directorate=_int(args.get("directorate")), category=_int(args.get("category")),
            priority=_int(args.get("priority")),
            channel=args.get("channel") if args.get("channel") in CHANNELS else None,
        )

    @property
    def start_at(self) -> datetime:
        return athens_midnight(self.date_from)

    @property
    def end_at(self) -> datetime:
        """Exclusive end: the start of the day after ``date_to``."""
        return athens_midnight(self.date_to + timedelta(days=1))

    def with_(self, **changes) -> ReportFilters:
        return replace(self, **changes)

    def to_args(self) -> dict[str, str]:
        """The query string that asks for this report again (for links and exports)."""
        names = {"date_from": "from", "date_to": "to", "grouping": "group"}
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[names.get(f.name, f.name)] = value.isoformat() if isinstance(value, date) else str(value)
        return out


# --- period buckets (computed in Python, joined in SQL) -----------------------------------

@dataclass(frozen=True)
class Bucket:
    key: str
    start_at: datetime  #: UTC, inclusive
    end_at: datetime    #: UTC, exclusive


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, n: int) -> date:
    m = day.month - 1 + n
    return date(day.year + m // 12, m % 12 + 1, 1)


def _period_of(day: date, grouping: str) -> tuple[str, date, date]:
    """The key and Athens-date span [start, end) of the period containing ``day``."""
    if grouping == "month":
        start = _month_start(day)
        return f"{start:%Y-%m}", start, _add_months(start, 1)
    if grouping == "quarter":
        q = (day.month - 1) // 3
        start = date(day.year, q * 3 + 1, 1)
        return f"{day.year}-Q{q + 1}", start, _add_months(start, 3)
    if grouping == "school_year":
        year = day.year if day.month >= 9 else day.year - 1
        return f"{year}–{(year + 1) % 100:02d}", date(year, 9, 1), date(year + 1, 9, 1)
    if grouping == "week":
        start = day - timedelta(days=day.weekday())
        return f"{start.isoformat()}", start, start + timedelta(days=7)
    raise ValueError(grouping)


def period_buckets(f: ReportFilters, grouping: str | None = None) -> list[Bucket]:
    """The periods covering [date_from, date_to], clipped to it, as UTC instants."""
    grouping = grouping or f.grouping
    out: list[Bucket] = []
    day = f.date_from
    while day <= f.date_to:
        key, start, end = _period_of(day, grouping)
        start, end = max(start, f.date_from), min(end, f.date_to + timedelta(days=1))
        out.append(Bucket(key, athens_midnight(start), athens_midnight(end)))
        day = end
    return out
