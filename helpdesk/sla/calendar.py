"""Working time in a business calendar (pure: no Flask, no DB).

Working hours are wall-clock intervals per weekday in the calendar's time zone
(Europe/Athens); each day is converted to UTC on its own, so DST changes are exact.
Holidays are Greece's public holidays (``holidays`` package, with the movable Orthodox
ones) plus the calendar's closures. All inputs and outputs are timezone-aware UTC.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as _holidays

MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
#: How far add_working_minutes looks for working time before giving up.
MAX_SEARCH_DAYS = 3 * 366
_ONE_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday (0 = Monday), public holidays and extra closures."""

    #: (weekday, start, end) in local time; several rows per weekday are allowed.
    hours: tuple[tuple[int, time, time], ...] = tuple(
        (d, time(8), time(15)) for d in MONDAY_TO_FRIDAY)
    #: Extra non-working dates (school holidays, a local feast).
    closures: frozenset[date] = field(default_factory=frozenset)
    timezone: str = "Europe/Athens"
    #: ISO country whose public holidays apply; "" for none.
    country: str = "GR"

    def __post_init__(self):
        for weekday, start, end in self.hours:
            if not 0 <= weekday <= 6 or start >= end:
                raise ValueError(f"bad working hours: {weekday} {start}-{end}")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: date) -> bool:
        return day in self.closures or (bool(self.country)
                                        and day in public_holidays(self.country, day.year))

    def is_working_day(self, day: date) -> bool:
        return not self.is_holiday(day) and any(w == day.weekday() for w, _, _ in self.hours)

    def windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working intervals in UTC, sorted and merged (empty on a holiday)."""
        return _windows(self, day)


@lru_cache(maxsize=65536)
def _windows(calendar: BusinessCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    if calendar.is_holiday(day):
        return ()
    tz = calendar.tz
    spans = sorted(
        (datetime.combine(day, s, tzinfo=tz).astimezone(UTC),
         datetime.combine(day, e, tzinfo=tz).astimezone(UTC))
        for w, s, e in calendar.hours if w == day.weekday())
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


@lru_cache(maxsize=256)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` in ``year`` (cached per year)."""
    return frozenset(_holidays.country_holidays(country, years=year).keys())


def default_calendar() -> BusinessCalendar:
    """Monday to Friday 08:00–15:00 Athens time, Greek public holidays."""
    return BusinessCalendar()


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the business calendar")
    return value.astimezone(UTC)


def _days(calendar: BusinessCalendar, start: datetime) -> Iterator[date]:
    """Local dates from the one holding ``start`` (one day earlier, for odd time zones)."""
    day = start.astimezone(calendar.tz).date() - timedelta(days=1)
    while True:
        yield day
        day += timedelta(days=1)


def working_time(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time between two instants (zero when ``end`` is not after ``start``)."""
    start, end = _aware(start), _aware(end)
    total = timedelta(0)
    if end <= start:
        return total
    last = end.astimezone(calendar.tz).date() + timedelta(days=1)
    for day in _days(calendar, start):
        if day > last:
            break
        for w_start, w_end in calendar.windows(day):
            lo, hi = max(w_start, start), min(w_end, end)
            if hi > lo:
                total += hi - lo
    return total


def working_minutes(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Minutes of working time between two UTC instants."""
    return working_time(calendar, start, end) / _ONE_MINUTE


def add_working_time(calendar: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """The instant when ``amount`` of working time has passed since ``start``.

    Zero returns ``start``; an amount that ends exactly at a window's end returns
    that end (15:00), not the next morning.
    """
    start = _aware(start)
    if amount <= timedelta(0):
        return start
    left = amount
    for n, day in enumerate(_days(calendar, start)):
        if n > MAX_SEARCH_DAYS:
            raise ValueError("the calendar has no working time in the next three years")
        for w_start, w_end in calendar.windows(day):
            lo = max(w_start, start)
            if w_end <= lo:
                continue
            if lo + left <= w_end:
                return lo + left
            left -= w_end - lo
    raise AssertionError("unreachable")


def add_working_minutes(calendar: BusinessCalendar, start: datetime, minutes: float) -> datetime:
    """Due time: ``minutes`` of working time after ``start``."""
    return add_working_time(calendar, start, timedelta(minutes=minutes))


def calendar_from_rows(hours: Iterable[tuple[int, time, time]] = (),
                       closures: Iterable[date] = ()) -> BusinessCalendar:
    """A calendar from stored rows; no hours rows means the default hours."""
    hours = tuple(sorted(hours))
    kwargs = {"hours": hours} if hours else {}
    return BusinessCalendar(closures=frozenset(closures), **kwargs)
