"""Maintenance windows as pure functions: "is t inside a window", "the next window after t".

A window recurs on some days of the week at a local start time, in a time zone, for a duration
of real (elapsed) time; a blackout date cancels the window that would start on that local date.
Times in and out are aware datetimes; the arithmetic is done in UTC, the calendar in the zone.

Daylight-saving changes neither skip nor double a window:

- A start time that does not exist that day (clocks jump forward over it, e.g. 02:30 on the
  last Sunday of March in Stockholm) starts the window when the local clock shows the same
  wall time plus the jump (03:30): the window still happens, once.
- A start time that exists twice (clocks go back, e.g. 02:30 on the last Sunday of October)
  starts the window at the first of the two (fold=0): it happens once, not twice.
- The duration is elapsed time, so a 3-hour window lasts 3 hours also on those nights.

Windows may cross midnight (start 22:00, 4 hours): the window belongs to the day it starts on,
so a blackout date cancels the window starting that evening, not the one ending that morning.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Monday is 0, as in date.weekday().
WEEKDAYS = range(7)
MAX_DURATION = timedelta(days=1)
# How far ahead to look for the next window: a year of blackout dates at most, plus a week.
_HORIZON_DAYS = 366 + 8


@dataclass(frozen=True)
class Window:
    """A recurring maintenance window in one time zone."""

    weekdays: frozenset[int]
    start: time
    duration: timedelta
    time_zone: ZoneInfo
    blackout_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(WEEKDAYS):
            raise ValueError("weekdays must be a non-empty subset of 0 (Monday) … 6 (Sunday)")
        if not timedelta(0) < self.duration <= MAX_DURATION:
            raise ValueError("duration must be more than 0 and at most 24 hours")
        if self.start.tzinfo is not None:
            raise ValueError("start is a local wall time, without a time zone")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(UTC)


def local_start(window: Window, day: date) -> datetime:
    """Return the instant (UTC) the window starting on local `day` begins.

    fold=0: the first of two ambiguous times; a time in a gap is moved on by the gap
    (zoneinfo reads it with the offset from before the change).
    """
    wall = datetime.combine(day, window.start, tzinfo=window.time_zone).replace(fold=0)
    return wall.astimezone(UTC)


def occurrences(window: Window, after: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Yield (start, end) in UTC of every window that ends after `after`, in order.

    Stops after a year and a week of days (blackouts can cancel at most that many).
    """
    after = _utc(after)
    # Begin the day before: a window that started yesterday evening may still be open.
    first_day = after.astimezone(window.time_zone).date() - timedelta(days=1)
    for offset in range(_HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        if day.weekday() not in window.weekdays or day in window.blackout_dates:
            continue
        start = local_start(window, day)
        end = start + window.duration
        if end > after:
            yield start, end


def window_at(window: Window, moment: datetime) -> tuple[datetime, datetime] | None:
    """Return the (start, end) of the window `moment` is inside, or None."""
    moment = _utc(moment)
    for start, end in occurrences(window, moment):
        if start <= moment < end:
            return start, end
        if start > moment:
            return None
    return None


def is_inside(window: Window, moment: datetime) -> bool:
    """Return True when `moment` is inside one of the window's occurrences (end excluded)."""
    return window_at(window, moment) is not None


def next_window(window: Window, after: datetime) -> tuple[datetime, datetime] | None:
    """Return the (start, end) of the first window that starts strictly after `after`.

    None when blackout dates cancel every window within the search horizon.
    """
    after = _utc(after)
    return next(((s, e) for s, e in occurrences(window, after) if s > after), None)


def current_or_next_window(window: Window, moment: datetime) -> tuple[datetime, datetime] | None:
    """Return the window `moment` is inside, else the next one (for "when will it run?")."""
    return window_at(window, moment) or next_window(window, moment)
