"""Time zones a person can pick."""

from functools import cache
from zoneinfo import available_timezones

# tzdata entries that are not places: the server's own zone and a placeholder.
_NOT_PLACES = frozenset({"localtime", "Factory"})


@cache
def place_time_zones() -> tuple[str, ...]:
    """Return the IANA time zone names of places, sorted."""
    return tuple(sorted(available_timezones() - _NOT_PLACES))
