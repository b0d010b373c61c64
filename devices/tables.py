"""The device list as a django-tables2 table: columns, headers, cells.

Sorting and paging are the view's: the FilterSet's `ordering` sorts (the same parameter as the
API, with the same column names), and the table only shows the order in its header links.
The rows themselves are written out in the template (partials/device_table.html), from the
device and its folder (select_related): no query per row.
"""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from django_tables2.data import TableQuerysetData

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
        },
    )
    name = tables.Column(verbose_name=_("Name"))
    status = tables.Column(verbose_name=_("Status"))
    model = tables.Column(verbose_name=_("Model"), accessor="product_number")
    firmware_version = tables.Column(verbose_name=_("Firmware"))
    # Filled per page by the view from devices.extensions (one catalog read for the page).
    upgrade = tables.Column(
        verbose_name=_("Upgrade recommended"), accessor="pk", orderable=False, empty_values=()
    )
    address = tables.Column(verbose_name=_("Address"), accessor="host")
    folder = tables.Column(verbose_name=_("Folder"), accessor="folder__name")
    last_seen = tables.Column(verbose_name=_("Last seen"), accessor="last_seen_at")

    class Meta:
        model = Device
        fields: tuple[str, ...] = ()
        template_name = TEMPLATE
        order_by_field = "ordering"
        attrs = {"class": "table table-sm align-middle", "id": "device-table"}
        empty_text = _("No devices match.")

    def __init__(self, rows, *, ordering: str = "", can_select: bool = False):
        self.upgrade_advice: dict = {}
        super().__init__(
            FilteredQuerysetData(rows),
            exclude=() if can_select else ("selection",),
            order_by=ordering or None,
        )
        self.can_select = can_select
