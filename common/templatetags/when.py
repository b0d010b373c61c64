"""Dates and times as every page shows them: ISO-like, in the person's time zone, with the zone.

"2026-12-04 19:05 JST" reads the same in English and Japanese and cannot be mistaken for
4 December or 12 April; a zone without a letter abbreviation shows its offset ("UTC+05:30").
"""

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


def zone_name(moment: datetime) -> str:
    """Return the zone's letter abbreviation (JST, CET, UTC), else its UTC offset."""
    abbreviation = moment.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    offset = moment.strftime("%z")  # "+0530"
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"


def format_when(value: datetime | date) -> str:
    """Return a date as 2026-12-04, a date and time as 2026-12-04 19:05 JST (local time)."""
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{local:%Y-%m-%d %H:%M} {zone_name(local)}"
    return f"{value:%Y-%m-%d}"


@register.filter(is_safe=True)
def when(value: datetime | date | None) -> SafeString | str:
    """Render a date or time as a `<time>` element in the person's time zone ("" for None)."""
    if value in (None, ""):
        return ""
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), format_when(value))
