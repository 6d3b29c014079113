"""Census dates in local (Athens) time: opening, lateness, reminder days (pure: no Flask, no DB)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from helpdesk.core.localtime import zone

#: Reminder days an administrator may choose (days before the deadline).
MAX_REMINDER_DAYS = 90


def athens_day(now: datetime) -> date:
    """The calendar day in Athens at the instant ``now`` (timezone-aware)."""
    return now.astimezone(zone()).date()


def end_of_day(day: date) -> datetime:
    """The end of ``day`` in Athens (midnight that starts the next day), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), zone()).astimezone(UTC)


def is_late(deadline: date, now: datetime) -> bool:
    """Submitted after the end of the deadline day, Athens time."""
    return now >= end_of_day(deadline)


def has_opened(opens_on: date, now: datetime) -> bool:
    return athens_day(now) >= opens_on


def due_reminder(reminder_days, opens_on: date, deadline: date, today: date) -> int | None:
    """The reminder due on ``today``: the smallest configured N with N ≥ days left.

    On the day exactly N days before the deadline that is N. A reminder whose day was
    missed (the job did not run) is sent on the next run rather than never, while the
    campaign is open and no closer reminder is due; a larger N is then skipped, since
    its text ("N days left") no longer holds. None when the campaign is not open today
    or no reminder day has come yet.
    """
    if today < opens_on or today > deadline:
        return None
    days_left = (deadline - today).days
    due = [n for n in reminder_days if n >= days_left]
    return min(due) if due else None


def parse_reminder_days(text: str) -> list[int]:
    """"7, 1" -> [7, 1]; raises ValueError on anything that is not a list of small integers."""
    values = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        n = int(part)
        if not 0 <= n <= MAX_REMINDER_DAYS:
            raise ValueError(part)
        values.append(n)
    return sorted(set(values), reverse=True)


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


#: Age buckets of equipment at the deadline: (key, lower bound in years, upper bound).
AGE_BUCKETS = (("age_0_2", 0, 2), ("age_2_5", 2, 5), ("age_5_8", 5, 8), ("age_8_plus", 8, None))
