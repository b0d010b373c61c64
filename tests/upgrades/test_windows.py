"""Maintenance windows: inside or not, the next one, across midnight and daylight saving.

Europe/Stockholm and America/New_York move their clocks at 02:00 local (forward in spring,
back in autumn); Australia/Sydney does it the other way round in the calendar (back in April,
forward in October). A window is never skipped and never doubled.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from upgrades.windows import (
    Window,
    current_or_next_window,
    is_inside,
    next_window,
    occurrences,
    window_at,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
EVERY_DAY = frozenset(range(7))


def window(zone, start, minutes, days=EVERY_DAY, blackout=()):
    return Window(days, start, timedelta(minutes=minutes), zone, frozenset(blackout))


def local(zone, *args, fold=0):
    return datetime(*args, tzinfo=zone, fold=fold)


def test_inside_and_outside_a_plain_window():
    w = window(STOCKHOLM, time(2), 120)
    assert is_inside(w, local(STOCKHOLM, 2026, 1, 14, 2, 0))
    assert is_inside(w, local(STOCKHOLM, 2026, 1, 14, 3, 59))
    assert not is_inside(w, local(STOCKHOLM, 2026, 1, 14, 4, 0))  # the end is not inside
    assert not is_inside(w, local(STOCKHOLM, 2026, 1, 14, 1, 59))


def test_a_window_crossing_midnight_belongs_to_the_day_it_starts():
    friday_night = window(STOCKHOLM, time(22), 240, days=frozenset({4}))  # Friday 22:00 to 02:00
    assert is_inside(friday_night, local(STOCKHOLM, 2026, 1, 17, 1, 30))  # Saturday 01:30
    assert not is_inside(friday_night, local(STOCKHOLM, 2026, 1, 16, 1, 30))  # Friday 01:30
    start, end = next_window(friday_night, local(STOCKHOLM, 2026, 1, 14, 12))
    assert start == local(STOCKHOLM, 2026, 1, 16, 22)
    assert end == local(STOCKHOLM, 2026, 1, 17, 2)


def test_a_blackout_date_cancels_the_window_starting_that_day_only():
    w = window(STOCKHOLM, time(22), 240, blackout={date(2026, 12, 24)})
    assert is_inside(w, local(STOCKHOLM, 2026, 12, 24, 1))  # the window of the 23rd
    assert not is_inside(w, local(STOCKHOLM, 2026, 12, 24, 23))
    start, _ = next_window(w, local(STOCKHOLM, 2026, 12, 24, 12))
    assert start == local(STOCKHOLM, 2026, 12, 25, 22)


def test_blackouts_on_every_day_leave_no_next_window():
    days = {date(2026, 1, 1) + timedelta(days=n) for n in range(400)}
    w = window(STOCKHOLM, time(2), 60, days=frozenset({0}), blackout=days)
    assert next_window(w, local(STOCKHOLM, 2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("zone", "start", "day", "expected_utc"),
    [
        # Spring forward: 02:30 does not exist; the window starts at 03:30 (the gap moves it on).
        (STOCKHOLM, time(2, 30), date(2026, 3, 29), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (NEW_YORK, time(2, 30), date(2026, 3, 8), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        (SYDNEY, time(2, 30), date(2026, 10, 4), datetime(2026, 10, 3, 16, 30, tzinfo=UTC)),
        # Fall back: the start happens twice (New York repeats 01:00-02:00); the first counts.
        (STOCKHOLM, time(2, 30), date(2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (NEW_YORK, time(1, 30), date(2026, 11, 1), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        (SYDNEY, time(2, 30), date(2026, 4, 5), datetime(2026, 4, 4, 15, 30, tzinfo=UTC)),
    ],
)
def test_a_start_in_a_daylight_saving_change_happens_exactly_once(zone, start, day, expected_utc):
    w = window(zone, start, 60)
    starts = [s for s, _ in _first(occurrences(w, datetime.combine(day, time(), zone)), 3)]
    on_that_day = [s for s in starts if abs(s - expected_utc) < timedelta(hours=12)]
    assert on_that_day == [expected_utc]


@pytest.mark.parametrize("zone", [STOCKHOLM, NEW_YORK, SYDNEY])
def test_with_frozen_time_across_each_change_the_windows_follow_one_a_day(zone):
    """Walk a month around both changes of the year, a day at a time, with the clock frozen."""
    w = window(zone, time(2, 30), 90)
    for month_start in (date(2026, 3, 20), date(2026, 9, 25), date(2026, 10, 20)):
        day = month_start
        for _ in range(20):
            noon = datetime.combine(day, time(12), zone)
            with time_machine.travel(noon, tick=False):
                start, end = next_window(w, datetime.now(UTC))
            # The next window after noon starts on the next local day, 90 real minutes long.
            local_start = start.astimezone(zone)
            assert local_start.date() == day + timedelta(days=1)
            assert local_start.time() in (time(2, 30), time(3, 30))
            assert end - start == timedelta(minutes=90)
            day += timedelta(days=1)


def test_a_three_hour_window_on_the_night_clocks_go_back_lasts_three_hours():
    w = window(STOCKHOLM, time(1), 180)
    start, end = next_window(w, local(STOCKHOLM, 2026, 10, 24, 12))
    assert end - start == timedelta(hours=3)
    # 01:00 CEST + 3 h is 03:00 CET: the wall clock shows 2 hours, the window lasts 3.
    assert end.astimezone(STOCKHOLM).time() == time(3)
    assert is_inside(w, local(STOCKHOLM, 2026, 10, 25, 2, 30, fold=1))  # the second 02:30


def test_current_or_next_gives_the_open_window_first():
    w = window(NEW_YORK, time(23), 120)
    open_now = current_or_next_window(w, local(NEW_YORK, 2026, 6, 2, 0, 30))
    assert open_now == (local(NEW_YORK, 2026, 6, 1, 23), local(NEW_YORK, 2026, 6, 2, 1))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        is_inside(window(STOCKHOLM, time(2), 60), datetime(2026, 1, 1))


def test_a_window_must_have_days_and_a_duration_of_at_most_a_day():
    with pytest.raises(ValueError, match="weekdays"):
        Window(frozenset(), time(2), timedelta(hours=1), STOCKHOLM)
    with pytest.raises(ValueError, match="duration"):
        Window(EVERY_DAY, time(2), timedelta(hours=25), STOCKHOLM)
    with pytest.raises(ValueError, match="duration"):
        Window(EVERY_DAY, time(2), timedelta(0), STOCKHOLM)


# --- Properties ---------------------------------------------------------------------------

zones = st.sampled_from([STOCKHOLM, NEW_YORK, SYDNEY, ZoneInfo("UTC")])
windows = st.builds(
    Window,
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    duration=st.integers(1, 24 * 60).map(lambda m: timedelta(minutes=m)),
    time_zone=zones,
    blackout_dates=st.frozensets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=5),
)
# Moments across 2026 and 2027, so every daylight-saving change is crossed.
moments = st.integers(0, 2 * 365 * 24 * 60).map(
    lambda minutes: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, seconds=7)
)


@settings(max_examples=300, deadline=None)
@given(windows, moments)
def test_the_next_window_starts_after_t_and_is_inside_from_its_start_to_its_end(w, t):
    found = next_window(w, t)
    assert found is not None
    start, end = found
    assert start > t
    assert end - start == w.duration
    assert is_inside(w, start)
    assert is_inside(w, end - timedelta(seconds=1))
    # Nothing starts between t and the next start.
    assert all(s >= start or s <= t for s, _ in _first(occurrences(w, t), 3))


@settings(max_examples=300, deadline=None)
@given(windows, moments)
def test_inside_exactly_when_some_occurrence_covers_t(w, t):
    covering = [(s, e) for s, e in _first(occurrences(w, t - timedelta(days=2)), 8) if s <= t < e]
    assert is_inside(w, t) == bool(covering)
    if covering:
        assert window_at(w, t) == covering[0]


@settings(max_examples=200, deadline=None)
@given(windows, moments)
def test_each_chosen_local_day_has_exactly_one_window(w, t):
    """Never skipped, never doubled: one start per chosen, non-blackout local date, in order."""
    starts = [s for s, _ in _first(occurrences(w, t), 30)]
    assert starts == sorted(set(starts))
    local_days = [_window_day(w, s) for s in starts]
    assert len(local_days) == len(set(local_days))
    first, last = local_days[0], local_days[-1]
    expected = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() in w.weekdays
        and first + timedelta(days=n) not in w.blackout_dates
    ]
    assert local_days == expected


def _window_day(w, start):
    """The local date a window starts on (the zones here change clocks at 02:00 or 03:00, so a
    start moved on by a gap stays on its day)."""
    return start.astimezone(w.time_zone).date()


def _first(iterator, count):
    out = []
    for item in iterator:
        out.append(item)
        if len(out) == count:
            break
    return out
