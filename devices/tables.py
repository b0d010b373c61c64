"""The device list as a django-tables2 table: columns, headers, cells.

Sorting and paging are the view's: the FilterSet's `ordering` sorts (the same parameter as the
API, with the same column names), and the table only shows the order in its header links.
Every cell reads the row itself or its folder (select_related): no query per row.
"""

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.data import TableQuerysetData

from common.templatetags.when import when
from devices.models import Device

TEMPLATE = "devices/partials/device_table.html"


class FilteredQuerysetData(TableQuerysetData):
    """Rows the FilterSet has already sorted: the table shows the order, it does not re-sort."""

    def order_by(self, aliases) -> None:
        return None


class DeviceTable(tables.Table):
    """The devices of one page; `selection` (checkboxes for bulk actions) only for admins."""

    selection = tables.CheckBoxColumn(
        accessor="pk",
        verbose_name=_("Select"),
        attrs={
            "th__input": {
                "data-select-all": "selection",
                "aria-label": _("Select all on this page"),
            },
            "td__input": {
                "form": "device-bulk-form",
                "aria-label": lambda record: _("Select %(name)s") % {"name": record.name},
            },
        },
    )
    name = tables.Column(verbose_name=_("Name"))
    status = tables.Column(verbose_name=_("Status"))
    model = tables.Column(verbose_name=_("Model"), accessor="product_number")
    firmware_version = tables.Column(verbose_name=_("Firmware"))
    address = tables.Column(verbose_name=_("Address"), accessor="host")
    folder = tables.Column(verbose_name=_("Folder"), accessor="folder__name")
    last_seen = tables.Column(
        verbose_name=_("Last seen"),
        accessor="last_seen_at",
        default="—",
    )

    class Meta:
        model = Device
        fields: tuple[str, ...] = ()
        template_name = TEMPLATE
        order_by_field = "ordering"
        attrs = {"class": "table table-sm align-middle", "id": "device-table"}
        empty_text = _("No devices match.")

    def __init__(self, rows, *, organization_id, ordering: str = "", can_select: bool = False):
        super().__init__(
            FilteredQuerysetData(rows),
            exclude=() if can_select else ("selection",),
            order_by=ordering or None,
        )
        self.organization_id = organization_id

    def render_name(self, record: Device) -> str:
        url = reverse("devices:device-detail", args=[self.organization_id, record.pk])
        return format_html('<a href="{}">{}</a>', url, record.name)

    def render_status(self, record: Device) -> str:
        return render_to_string(
            "devices/partials/status_badge.html",
            {"status": record.status, "label": record.get_status_display()},
        )

    def render_address(self, record: Device) -> str:
        return f"{record.scheme}://{record.host}:{record.port}"

    def render_last_seen(self, value) -> str:
        return when(value)
