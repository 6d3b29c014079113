"""The business calendar and the SLA clock: pure, no app, no database."""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendar import (
    BusinessCalendar,
    add_working_minutes,
    calendar_from_rows,
    default_calendar,
    public_holidays,
    working_minutes,
)
from helpdesk.sla.clock import Event, Policy, compute

ATHENS = ZoneInfo("Europe/Athens")
CAL = default_calendar()
DAY = 7 * 60  # 08:00–15:00
POLICY = Policy(first_response_minutes=60, resolution_minutes=5 * DAY,
                level_minutes=(2 * DAY, 3 * DAY, 4 * DAY), warn_ratio=0.75)


def local(y, m, d, h=0, mi=0) -> datetime:
    """An Athens wall-clock time, as UTC."""
    return datetime(y, m, d, h, mi, tzinfo=ATHENS).astimezone(UTC)


def filed(at, level=1):
    return [Event(at, "status", None, "new"), Event(at, "level", None, str(level))]


def status(at, old, new):
    return Event(at, "status", old, new)


def level(at, old, new):
    return Event(at, "level", str(old), str(new))


# --- the calendar ----------------------------------------------------------------------

def test_a_working_day_is_seven_hours_in_athens_time():
    assert working_minutes(CAL, local(2026, 3, 2), local(2026, 3, 3)) == DAY
    # Athens is UTC+2 in winter: 08:00 local is 06:00 UTC.
    assert CAL.windows(date(2026, 3, 2)) == ((datetime(2026, 3, 2, 6, tzinfo=UTC),
                                              datetime(2026, 3, 2, 13, tzinfo=UTC)),)


def test_nights_do_not_count():
    assert working_minutes(CAL, local(2026, 3, 2, 14), local(2026, 3, 3, 9)) == 120
    assert working_minutes(CAL, local(2026, 3, 2, 16), local(2026, 3, 3, 7)) == 0


def test_weekends_do_not_count():
    assert working_minutes(CAL, local(2026, 3, 6, 14), local(2026, 3, 9, 9)) == 120
    assert working_minutes(CAL, local(2026, 3, 7, 9), local(2026, 3, 8, 14)) == 0


def test_a_holiday_in_the_middle_does_not_count():
    # Wednesday 25 March 2026, Independence Day.
    assert working_minutes(CAL, local(2026, 3, 24, 14), local(2026, 3, 26, 9)) == 120
    assert add_working_minutes(CAL, local(2026, 3, 24, 14), 120) == local(2026, 3, 26, 9)


@pytest.mark.parametrize("good_friday,easter_monday", [
    (date(2025, 4, 18), date(2025, 4, 21)),
    (date(2026, 4, 10), date(2026, 4, 13)),
    (date(2027, 4, 30), date(2027, 5, 3)),
])
def test_orthodox_easter_is_not_working_time(good_friday, easter_monday):
    assert not CAL.is_working_day(good_friday) and not CAL.is_working_day(easter_monday)
    thursday = good_friday - timedelta(days=1)
    tuesday = easter_monday + timedelta(days=1)
    assert CAL.is_working_day(thursday)
    start = local(thursday.year, thursday.month, thursday.day, 14)
    if good_friday.year == 2027:  # 1 May fell on Holy Saturday: moved to Tuesday 4 May
        assert not CAL.is_working_day(tuesday)
        tuesday += timedelta(days=1)
    end = local(tuesday.year, tuesday.month, tuesday.day, 9)
    assert working_minutes(CAL, start, end) == 120
    assert add_working_minutes(CAL, start, 120) == end


@pytest.mark.parametrize("day", [
    date(2025, 3, 3), date(2026, 2, 23), date(2027, 3, 15),   # Clean Monday
    date(2025, 6, 9), date(2026, 6, 1), date(2027, 6, 21),    # Whit Monday
    date(2026, 1, 6), date(2026, 10, 28), date(2026, 12, 25), date(2026, 8, 15),
])
def test_movable_and_fixed_greek_holidays(day):
    assert day in public_holidays("GR", day.year)
    assert not CAL.is_working_day(day)


def test_closures_are_not_working_days():
    cal = calendar_from_rows(closures=[date(2026, 3, 3)])
    assert not cal.is_working_day(date(2026, 3, 3)) and CAL.is_working_day(date(2026, 3, 3))
    assert working_minutes(cal, local(2026, 3, 2, 14), local(2026, 3, 4, 9)) == 120


def test_custom_hours_per_weekday_and_split_shifts():
    cal = calendar_from_rows(hours=[(0, time(8), time(12)), (0, time(13), time(17)),
                                    (5, time(9), time(11))])
    assert working_minutes(cal, local(2026, 3, 2), local(2026, 3, 3)) == 8 * 60
    assert working_minutes(cal, local(2026, 3, 3), local(2026, 3, 7)) == 0
    assert working_minutes(cal, local(2026, 3, 7), local(2026, 3, 8)) == 120
    assert add_working_minutes(cal, local(2026, 3, 2, 11), 90) == local(2026, 3, 2, 13, 30)


def test_march_dst_change_is_handled():
    # Sunday 29 March 2026 03:00 → 04:00: Athens becomes UTC+3.
    start, end = local(2026, 3, 27, 14), local(2026, 3, 30, 9)
    assert working_minutes(CAL, start, end) == 120
    assert end == datetime(2026, 3, 30, 6, tzinfo=UTC)
    assert add_working_minutes(CAL, start, 120) == end
    assert working_minutes(CAL, local(2026, 3, 23), local(2026, 4, 4)) == 9 * DAY  # 25 Mar off
    assert CAL.windows(date(2026, 3, 30))[0][0] == datetime(2026, 3, 30, 5, tzinfo=UTC)


def test_october_dst_change_is_handled():
    # Sunday 25 October 2026 04:00 → 03:00: Athens goes back to UTC+2.
    start, end = local(2026, 10, 23, 14), local(2026, 10, 26, 9)
    assert working_minutes(CAL, start, end) == 120
    assert end == datetime(2026, 10, 26, 7, tzinfo=UTC)
    assert add_working_minutes(CAL, start, 120) == end
    # 28 October (Ohi Day) is a holiday as well.
    assert working_minutes(CAL, local(2026, 10, 19), local(2026, 10, 31)) == 9 * DAY


def test_due_time_that_ends_a_day_is_that_afternoon():
    assert add_working_minutes(CAL, local(2026, 3, 2, 8), DAY) == local(2026, 3, 2, 15)
    assert add_working_minutes(CAL, local(2026, 3, 2, 8), 0) == local(2026, 3, 2, 8)
    assert add_working_minutes(CAL, local(2026, 3, 7, 10), 1) == local(2026, 3, 9, 8, 1)


def test_naive_datetimes_and_bad_hours_are_refused():
    with pytest.raises(ValueError):
        working_minutes(CAL, datetime(2026, 3, 2), datetime(2026, 3, 3))
    with pytest.raises(ValueError):
        BusinessCalendar(hours=((0, time(15), time(8)),))
    with pytest.raises(ValueError):
        add_working_minutes(BusinessCalendar(hours=()), local(2026, 3, 2), 1)


# --- the clock --------------------------------------------------------------------------

def test_a_fresh_ticket_has_its_due_times():
    t = local(2026, 3, 2, 10)  # Monday
    r = compute(t, filed(t), CAL, POLICY)
    assert r.first_response.due_at == local(2026, 3, 2, 11)
    assert r.level_clock.due_at == local(2026, 3, 4, 10)    # two working days
    assert r.resolution.due_at == local(2026, 3, 9, 10)     # five working days
    assert r.state == "ok" and r.level == 1 and r.level_clock.elapsed_minutes == 0


def test_warning_then_breach_of_the_first_response():
    t = local(2026, 3, 2, 10)
    assert compute(local(2026, 3, 2, 10, 44), filed(t), CAL, POLICY).state == "ok"
    warn = compute(local(2026, 3, 2, 10, 45), filed(t), CAL, POLICY)
    assert warn.state == "warning" and warn.first_response.is_warning
    late = compute(local(2026, 3, 2, 11), filed(t), CAL, POLICY)
    assert late.state == "breached" and late.first_response.is_breached
    assert late.first_response.remaining_minutes == 0


def test_a_late_first_response_stays_breached_once_given():
    t = local(2026, 3, 2, 10)
    events = filed(t) + [Event(local(2026, 3, 2, 12), "first_response")]
    r = compute(local(2026, 3, 2, 13), events, CAL, POLICY)
    assert r.first_response.is_breached and not r.first_response.is_running
    assert r.first_response.elapsed_minutes == 120 and r.first_response.due_at == local(2026, 3, 2, 11)
    assert r.state == "ok"  # what is still running is within its time
    on_time = filed(t) + [Event(local(2026, 3, 2, 11), "first_response")]
    assert not compute(local(2026, 3, 3), on_time, CAL, POLICY).first_response.is_breached


def test_the_clock_pauses_while_waiting_and_credits_the_paused_time():
    t = local(2026, 3, 2, 10)
    events = filed(t) + [status(local(2026, 3, 2, 10, 30), "new", "open"),
                         Event(local(2026, 3, 2, 10, 30), "first_response"),
                         status(local(2026, 3, 2, 11), "open", "waiting"),
                         status(local(2026, 3, 3, 11), "waiting", "open")]
    during = compute(local(2026, 3, 3, 9), events[:-1], CAL, POLICY)
    assert during.state == "paused" and during.level_clock.is_paused
    assert during.level_clock.elapsed_minutes == 60
    after = compute(local(2026, 3, 3, 12), events, CAL, POLICY)
    assert after.level_clock.elapsed_minutes == 120
    paused = DAY  # Monday 11:00 → Tuesday 11:00 is one working day
    assert after.level_clock.due_at == add_working_minutes(CAL, t, 2 * DAY + paused)
    assert after.resolution.due_at == add_working_minutes(CAL, t, 5 * DAY + paused)


def test_a_pause_spanning_a_holiday_credits_only_working_time():
    t = local(2026, 3, 24, 9)  # Tuesday; Wednesday 25 March is a holiday
    events = filed(t) + [status(local(2026, 3, 24, 10), "new", "waiting"),
                         status(local(2026, 3, 26, 10), "waiting", "open")]
    r = compute(local(2026, 3, 26, 12), events, CAL, POLICY)
    assert r.level_clock.elapsed_minutes == 60 + 120
    assert r.level_clock.due_at == add_working_minutes(CAL, t, 2 * DAY + 5 * 60 + 2 * 60)
    assert r.level_clock.due_at == local(2026, 3, 30, 9)  # Tue 6h, Thu 7h, Fri 7h, Mon 1h (UTC+3)


def test_a_policy_change_recomputes_deterministically():
    t = local(2026, 3, 2, 10)
    events = filed(t) + [status(local(2026, 3, 2, 11), "new", "open"),
                         Event(local(2026, 3, 2, 10, 30), "first_response")]
    now = local(2026, 3, 3, 14)
    strict = Policy(30, DAY, (DAY, DAY, DAY))
    first = compute(now, events, CAL, POLICY)
    second = compute(now, events, CAL, strict)
    assert compute(now, list(reversed(events)), CAL, POLICY) == first
    assert second.level_clock.due_at == local(2026, 3, 3, 10) and second.state == "breached"
    assert first.state == "warning"  # 11 of 14 hours at level 1
    assert compute(now, events, CAL, POLICY) == first


def test_a_calendar_change_recomputes():
    t = local(2026, 3, 2, 10)
    closed = calendar_from_rows(closures=[date(2026, 3, 3)])
    assert compute(t, filed(t), closed, POLICY).level_clock.due_at == local(2026, 3, 5, 10)


def test_a_ticket_escalated_twice_has_a_clock_per_level():
    t = local(2026, 3, 2, 10)
    e1, e2 = local(2026, 3, 4, 10), local(2026, 3, 6, 12)
    events = filed(t) + [status(e1, "new", "new"), level(e1, 1, 2), level(e2, 2, 3)]
    before = compute(e1 - timedelta(minutes=1), events, CAL, POLICY)
    assert before.level == 1 and before.state == "breached"
    at2 = compute(e1, events, CAL, POLICY)
    assert at2.level == 2 and at2.level_clock.elapsed_minutes == 0
    assert at2.level_clock.due_at == add_working_minutes(CAL, e1, 3 * DAY)
    at3 = compute(local(2026, 3, 9, 9), events, CAL, POLICY)
    assert at3.level == 3 and at3.level_clock.started_at == e2
    assert at3.level_clock.elapsed_minutes == 180 + 60
    assert at3.level_clock.due_at == add_working_minutes(CAL, e2, 4 * DAY)
    # the resolution clock ran through all of it
    assert at3.resolution.elapsed_minutes == working_minutes(CAL, t, local(2026, 3, 9, 9))


def test_a_return_to_a_lower_level_starts_that_levels_clock_anew():
    t = local(2026, 3, 2, 10)
    up, down = local(2026, 3, 2, 12), local(2026, 3, 3, 12)
    events = filed(t) + [level(up, 1, 2), level(down, 2, 1)]
    r = compute(local(2026, 3, 3, 13), events, CAL, POLICY)
    assert r.level == 1 and r.level_clock.started_at == down and r.level_clock.elapsed_minutes == 60


def test_resolution_stops_at_resolve_and_runs_again_after_reopen():
    t = local(2026, 3, 2, 10)
    resolved, reopened = local(2026, 3, 2, 12), local(2026, 3, 4, 10)
    events = filed(t) + [status(local(2026, 3, 2, 11), "new", "open"),
                         status(resolved, "open", "resolved"),
                         Event(local(2026, 3, 2, 10, 30), "first_response")]
    done = compute(local(2026, 3, 3, 12), events, CAL, POLICY)
    assert done.level_clock is None and done.state == "ok"
    assert done.resolution.stopped_at == resolved and done.resolution.elapsed_minutes == 120
    events.append(status(reopened, "resolved", "open"))
    again = compute(local(2026, 3, 4, 11), events, CAL, POLICY)
    assert again.resolution.is_running and again.resolution.elapsed_minutes == 180
    assert again.level_clock.started_at == reopened and again.level_clock.elapsed_minutes == 60
    assert again.resolution.due_at == add_working_minutes(CAL, reopened, 5 * DAY - 120)


def test_a_resolution_after_its_time_is_breached_for_good():
    t = local(2026, 3, 2, 10)
    late = local(2026, 3, 12, 10)
    events = filed(t) + [status(late, "new", "resolved"), status(late + timedelta(days=3),
                                                                 "resolved", "closed")]
    r = compute(local(2026, 3, 20), events, CAL, POLICY)
    assert r.resolution.is_breached and r.first_response.is_breached and r.state == "breached"
    assert r.resolution.stopped_at == late


def test_a_level_without_a_target_has_no_due_time():
    t = local(2026, 3, 2, 10)
    r = compute(local(2026, 4, 2), filed(t, level=3), CAL, Policy(60, None, (1, 1, None)))
    assert r.level_clock.due_at is None and r.resolution.due_at is None


def test_events_after_now_are_ignored_and_a_history_needs_a_filing():
    t = local(2026, 3, 2, 10)
    future = filed(t) + [status(local(2026, 3, 5), "new", "resolved")]
    assert compute(local(2026, 3, 3), future, CAL, POLICY).status == "new"
    with pytest.raises(ValueError):
        compute(t, [Event(t, "level", None, "1")], CAL, POLICY)


# --- properties -------------------------------------------------------------------------

START = datetime(2025, 1, 1, tzinfo=UTC)
instants = st.integers(min_value=0, max_value=3 * 365 * 24 * 60).map(
    lambda m: START + timedelta(minutes=m))
spans = st.integers(min_value=0, max_value=40 * 24 * 60)


@settings(max_examples=200, deadline=None)
@given(instants, spans, spans)
def test_working_time_is_additive_and_within_wall_time(a, x, y):
    b, c = a + timedelta(minutes=x), a + timedelta(minutes=x + y)
    ab, bc = working_minutes(CAL, a, b), working_minutes(CAL, b, c)
    assert 0 <= ab <= x
    assert ab + bc == working_minutes(CAL, a, c)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=0, max_value=20 * DAY))
def test_add_working_minutes_inverts_working_minutes(start, minutes):
    due = add_working_minutes(CAL, start, minutes)
    assert due >= start
    assert working_minutes(CAL, start, due) == minutes
    if minutes:  # the due time is the earliest such instant: inside a working window
        assert working_minutes(CAL, start, due - timedelta(seconds=1)) < minutes


@settings(max_examples=200, deadline=None)
@given(instants, spans)
def test_working_minutes_then_add_lands_no_later(start, span):
    end = start + timedelta(minutes=span)
    assert add_working_minutes(CAL, start, working_minutes(CAL, start, end)) <= end


STATUS_STEPS = st.lists(
    st.tuples(st.integers(min_value=1, max_value=5 * 24 * 60),
              st.sampled_from(["open", "waiting", "resolved", "open", "new"]),
              st.sampled_from([None, 1, 2, 3])),
    max_size=8)


def _history(created, steps):
    events, at, current = filed(created), created, "new"
    lvl = 1
    for gap, new, new_level in steps:
        at += timedelta(minutes=gap)
        events.append(status(at, current, new))
        current = new
        if new_level and new_level != lvl:
            events.append(level(at, lvl, new_level))
            lvl = new_level
    return events


@settings(max_examples=150, deadline=None)
@given(instants, STATUS_STEPS, spans, spans)
def test_elapsed_never_decreases_and_never_exceeds_wall_time(created, steps, d1, d2):
    events = _history(created, steps)
    now1 = created + timedelta(minutes=d1)
    now2 = now1 + timedelta(minutes=d2)
    r1, r2 = compute(now1, events, CAL, POLICY), compute(now2, events, CAL, POLICY)
    for clock in ("first_response", "resolution"):
        e1, e2 = getattr(r1, clock).elapsed_minutes, getattr(r2, clock).elapsed_minutes
        assert 0 <= e1 <= e2
        assert e1 <= (now1 - created) / timedelta(minutes=1)
        assert e2 <= (now2 - created) / timedelta(minutes=1)
    assert r2.state in ("ok", "warning", "breached", "paused")


@settings(max_examples=100, deadline=None)
@given(instants, STATUS_STEPS, spans, spans)
def test_the_level_clock_never_decreases_within_one_stay(created, steps, d1, d2):
    events = _history(created, steps)
    last = max(e.at for e in events)
    now1 = last + timedelta(minutes=d1)
    now2 = now1 + timedelta(minutes=d2)
    r1, r2 = compute(now1, events, CAL, POLICY), compute(now2, events, CAL, POLICY)
    if r1.level_clock is None:
        assert r2.level_clock is None
        return
    assert r1.level_clock.started_at == r2.level_clock.started_at
    assert r1.level_clock.elapsed_minutes <= r2.level_clock.elapsed_minutes
    assert r2.level_clock.elapsed_minutes <= (now2 - r2.level_clock.started_at) / timedelta(minutes=1)
    if not r1.level_clock.is_paused:  # a running clock's due time does not drift
        assert r1.level_clock.due_at == r2.level_clock.due_at or r1.level_clock.is_breached
