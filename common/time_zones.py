"""Time zones a person can pick: current IANA places, grouped by region, with their offset."""

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The first part of a place's name, in words; the picker groups places under these.
REGIONS = {
    "Africa": _("Africa"),
    "America": _("Americas"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic Ocean"),
    "Australia": _("Australia"),
    "Europe": _("Europe"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific Ocean"),
}


@cache
def place_time_zones() -> tuple[str, ...]:
    """Return the IANA names of places, and UTC, sorted.

    The places of tzdata's zone.tab (every country's zones by their current names): no legacy
    aliases such as "Japan" or "US/Pacific", no "Etc/GMT+5", "EST5EDT", "localtime" or "Factory".
    """
    table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    places = {
        line.split("\t")[2]
        for line in table.splitlines()
        if line and not line.startswith("#") and line.count("\t") >= 2
    }
    return tuple(sorted((places | {"UTC"}) & available_timezones()))


def with_current_zone(choices: list[tuple[str, str]], current: str | None) -> list:
    """Return the choices with the current zone added when it is an older name ("Japan").

    A zone saved before the list was narrowed stays selected instead of the picker falling
    back to its first entry, and saving the form keeps it.
    """
    if not current or current in place_time_zones() or current not in available_timezones():
        return choices
    return [*choices, (current, current)]


def utc_offset(zone: str, at: datetime | None = None) -> str:
    """Return the zone's offset from UTC now (or at `at`), e.g. "UTC+09:00", "UTC-03:30"."""
    moment = (at or timezone.now()).astimezone(ZoneInfo(zone))
    offset = moment.strftime("%z")  # "+0900"
    return f"UTC{offset[:3]}:{offset[3:5]}"


def group_by_region(choices: Iterable[tuple[Any, Any]], at: datetime | None = None) -> list:
    """Return time zone choices grouped by region, each place with its UTC offset.

    "Asia/Tokyo" reads "Tokyo (UTC+09:00)" under "Asia" (the offset is today's: summer time
    changes it); UTC and choices that are not places (such as "inherit") come first, ungrouped.
    """
    first: list[tuple[Any, Any]] = []
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in REGIONS}
    for value, label in choices:
        region, _slash, place = str(value).partition("/")
        if region in groups and place:
            groups[region].append((value, f"{place.replace('_', ' ')} ({utc_offset(value, at)})"))
        elif value == "UTC":
            first.append((value, f"UTC ({utc_offset(value, at)})"))
        else:
            first.append((value, label))
    regions = [(str(REGIONS[region]), places) for region, places in groups.items() if places]
    return [*first, *regions]


class TimeZoneSelect(forms.Select):
    """A time zone picker: places grouped by region with their offset, searchable.

    The field keeps plain choices (IANA names); only the rendering groups them. The search box
    comes from static/js/time_zone_filter.js.
    """

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.attrs.setdefault("data-filter-label", _("Search time zones"))

    def optgroups(self, name: str, value: Any, attrs: dict | None = None) -> list:
        plain, self.choices = self.choices, group_by_region(self.choices)
        try:
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = plain
