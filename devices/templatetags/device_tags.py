"""Small template helpers for device pages: `{{ device|status_badge }}`."""

from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@lru_cache(maxsize=64)
def _badge(status: str, label: str) -> SafeString:
    # The partial's output depends on nothing but these two: render each pair once per process
    # rather than once per row (a list page shows 50 or more).
    html = render_to_string(
        "devices/partials/status_badge.html", {"status": status, "label": label}
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


@register.filter
def status_badge(device) -> SafeString:
    """Render the device's status badge (devices/partials/status_badge.html)."""
    return _badge(device.status, str(device.get_status_display()))


@register.filter
def advice_for(advice: dict, device):
    """The upgrade advice of a device in the page's advice (devices.extensions), or None."""
    return advice.get(device.pk)
