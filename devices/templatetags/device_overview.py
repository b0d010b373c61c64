"""The fleet at a glance, for the organization's Overview page: `{% fleet_overview %}`.

A template tag, not a view: the Overview page belongs to `organizations`, which may not import
`devices` (the layers in pyproject.toml), so the page pulls this panel in by name. Every figure is
one aggregate query over the member's visible devices, whatever the size of the fleet.
"""

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from devices import selectors
from devices.models import Device
from devices.servers import selectors as server_selectors
from organizations import access
from organizations.roles import Action

register = template.Library()


def _list_url(organization_id, **filters) -> str:
    query = QueryDict(mutable=True)
    for name, value in filters.items():
        if isinstance(value, list | tuple):
            query.setlist(name, [str(item) for item in value])
        else:
            query[name] = str(value)
    return f"{reverse('devices:device-list', args=[organization_id])}?{query.urlencode()}"


@register.inclusion_tag("devices/partials/fleet_overview.html", takes_context=True)
def fleet_overview(context) -> dict:
    """Render device counts by status and folder, the firmware chart and devices in trouble."""
    membership = context["request"].membership
    if not access.can(membership, Action.DEVICE_VIEW):
        return {"can_view": False}
    organization_id = membership.organization_id
    counts = selectors.device_status_counts(membership)
    labels = dict(Device.Status.choices)
    statuses = [
        {
            "status": status,
            "label": labels[status],
            "count": counts[status],
            "url": _list_url(organization_id, status=status),
        }
        for status in Device.Status.values
    ]
    folders = [
        {**row, "url": _list_url(organization_id, folder=row["folder_id"])}
        for row in selectors.device_folder_counts(membership)
    ]
    firmware = selectors.firmware_version_counts(membership)
    chart_labels = [version or _("Other versions") for version, _count in firmware]
    attention_count = sum(counts[status] for status in selectors.ATTENTION_STATUSES)
    return {
        "can_view": True,
        "current_organization": context.get("current_organization"),
        "total": sum(counts.values()),
        "statuses": statuses,
        "folders": folders,
        "firmware": list(zip(chart_labels, [count for _version, count in firmware], strict=True)),
        "chart": {
            "title": _("Devices"),
            "labels": chart_labels,
            "counts": [count for _version, count in firmware],
        },
        "attention": selectors.devices_needing_attention(membership),
        "attention_count": attention_count,
        "attention_url": _list_url(organization_id, status=list(selectors.ATTENTION_STATUSES)),
        "list_url": reverse("devices:device-list", args=[organization_id]),
    }


@register.inclusion_tag("devices/servers/partials/server_overview.html", takes_context=True)
def server_overview(context) -> dict:
    """Render the camera-station servers by check-in state and the ones late or offline."""
    membership = context["request"].membership
    if not access.can(membership, Action.SERVER_MONITOR):
        return {"can_monitor": False}
    return {
        "can_monitor": True,
        "current_organization": context.get("current_organization"),
        **server_selectors.server_overview(membership),
    }
