"""The device list: filters, sorting and paging, CSV export of the filtered list, bulk move.

Every request starts from `selectors.visible_devices(membership)`; the filters come from
`devices.filters.DeviceFilterSet` (the API's too). The page's query count does not depend on the
page size or on the number of folder grants: the folder tree, the devices of the page (with their
folders), their count and the filter choices are one query each (the count two past 10,000
devices, when it becomes PostgreSQL's estimate: `common.pagination.EstimatedCountPaginator`).
"""

import csv
from collections.abc import Iterator
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from common.errors import DomainError
from common.forms import BootstrapForm
from common.pagination import EstimatedCountPaginator
from common.spreadsheet import Echo, safe_cell
from devices import extensions, selectors, services
from devices.filters import DeviceFilterSet
from devices.models import Device
from devices.tables import DeviceTable
from organizations import access
from organizations import selectors as organization_selectors
from organizations.models import Folder
from organizations.roles import Action
from organizations.tenancy import organization_view

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
EXPORT_CHUNK = 2000


def folder_choices(folders: list[Folder]) -> list[tuple[str, str]]:
    """Return (id, indented name) pairs in tree order (folders from `folder_tree`)."""
    return [(str(folder.pk), "\u2003" * folder.level + folder.name) for folder in folders]


def folder_options(choices: list[tuple[str, str]], selected: str = "") -> SafeString:
    """Return the folders as escaped `<option>`s, `selected` marked.

    Built here rather than in a template loop: an organization has thousands of folders, and
    the page shows them twice (filter and bulk move); the loop was most of the page's time.
    """
    return mark_safe(  # noqa: S308 - every value and label is escaped right here
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
            f"{escape(label)}</option>"
            for value, label in choices
        )
    )


class DeviceIdsField(forms.Field):
    """The ids of the ticked devices; which of them the member may move is the service's call."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[UUID]:
        try:
            return [UUID(str(item)) for item in value or []]
        except ValueError:
            raise forms.ValidationError(_("Select devices from the list.")) from None


class BulkMoveForm(BootstrapForm):
    """Move the selected devices to a folder: ids come from the page's checkboxes."""

    service_fields = {"device_ids": "selection"}
    selection = DeviceIdsField(
        label=gettext_lazy("Devices"),
        error_messages={"required": gettext_lazy("Select at least one device to move.")},
    )
    folder = forms.ChoiceField(
        label=gettext_lazy("Move to"),
        error_messages={"required": gettext_lazy("Choose the folder to move the devices to.")},
    )

    def __init__(self, *args, folders: list[Folder], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.folders = {str(folder.pk): folder for folder in folders}
        self.fields["folder"].choices = [("", _("Choose a folder…")), *folder_choices(folders)]


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("per_page", DEFAULT_PAGE_SIZE))
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


@organization_view
def device_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Devices: per folder (with subfolders), search, filters, sorting, paging (viewer+)."""
    membership = request.membership
    access.require(membership, Action.DEVICE_VIEW)
    folders = organization_selectors.folder_tree(membership)
    devices = selectors.visible_devices_in(membership, folders)
    filterset = DeviceFilterSet(
        request.GET, devices.select_related("folder"), membership=membership, folders=folders
    )
    is_valid = filterset.is_valid()
    rows = filterset.qs if is_valid else filterset.queryset.none()
    can_manage = access.can(membership, Action.DEVICE_MANAGE)
    ordering = filterset.form.cleaned_data.get("ordering") if is_valid else None
    table = DeviceTable(
        rows,
        ordering=ordering[0] if ordering else "",
        can_select=can_manage,
    )
    per_page = _page_size(request)
    # Counted exactly up to a limit, "about N" past it (a whole fleet is tens of thousands).
    paging = {"per_page": per_page, "paginator_class": EstimatedCountPaginator, "queryset": rows}
    try:
        table.paginate(page=request.GET.get("page", 1), **paging)
    except PageNotAnInteger:
        table.paginate(page=1, **paging)
    except EmptyPage:
        table.paginate(page=table.paginator.num_pages, **paging)
    # The page's rows are read here (the template reuses them) for their upgrade advice.
    table.upgrade_advice = extensions.upgrade_advice([row.record for row in table.paginated_rows])
    facets = selectors.device_facets(membership, devices)
    choices = folder_choices(folders)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "table": table,
        "folder_filter_options": folder_options(choices, request.GET.get("folder", "")),
        "folder_options": folder_options(choices) if can_manage else "",
        "facets": facets,
        "statuses": Device.Status.choices,
        # What the person chose, for the selects and checkboxes that show the filters.
        "selected": {
            "model": request.GET.get("model", ""),
            "firmware_version": request.GET.get("firmware_version", ""),
            "status": request.GET.getlist("status"),
        },
        "page_sizes": PAGE_SIZES,
        "per_page": per_page,
        "query": query.urlencode(),
        "can_manage": can_manage,
        "can_upgrade": access.can(membership, Action.UPGRADE_MANAGE),
    }
    return render(request, "devices/device_list.html", context, status=200 if is_valid else 400)


EXPORT_FIELDS = (
    "name",
    "serial_number",
    "mac_address",
    "product_number",
    "product_name",
    "firmware_version",
    "status",
    "scheme",
    "host",
    "port",
    "folder__name",
    "last_seen_at",
)


@organization_view
def device_export(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """The filtered device list as CSV, streamed (viewer+); a bad filter goes back to the page.

    Rows come through a server-side cursor in chunks as plain tuples, so memory stays bounded
    whatever the fleet's size. No credentials: the columns are named one by one.
    """
    membership = request.membership
    access.require(membership, Action.DEVICE_VIEW)
    filterset = DeviceFilterSet(
        request.GET, selectors.visible_devices(membership), membership=membership
    )
    if not filterset.is_valid():
        url = reverse("devices:device-list", args=[organization_id])
        return redirect(f"{url}?{request.GET.urlencode()}")
    devices = filterset.qs.values_list(*EXPORT_FIELDS)
    advise = extensions.upgrade_advisor_function()
    # The answer streams after the view returns: keep the person's language and time zone.
    language, zone = translation.get_language(), timezone.get_current_timezone()
    status_labels = dict(Device.Status.choices)

    def rows() -> Iterator[str]:
        writer = csv.writer(Echo())
        with translation.override(language), timezone.override(zone):
            yield writer.writerow(
                [
                    _("Name"),
                    _("Serial number"),
                    _("MAC address"),
                    _("Model"),
                    _("Product name"),
                    _("Firmware version"),
                    _("Status"),
                    _("Address"),
                    _("Folder"),
                    _("Last seen"),
                    _("Upgrade recommended"),
                ]
            )
            labels = {status: str(label) for status, label in status_labels.items()}
            for row in devices.iterator(chunk_size=EXPORT_CHUNK):
                (name, serial, mac, model, product, firmware, status) = row[:7]
                scheme, host, port, folder_name, last_seen_at = row[7:]
                advice = advise(model, firmware)
                yield writer.writerow(
                    safe_cell(value)
                    for value in (
                        name,
                        serial,
                        mac,
                        model,
                        product,
                        firmware,
                        labels.get(status, status),
                        f"{scheme}://{host}:{port}",
                        folder_name,
                        timezone.localtime(last_seen_at).isoformat(timespec="seconds")
                        if last_seen_at
                        else "",
                        f"{advice.version} — {advice.reason}" if advice else "",
                    )
                )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    filename = f"devices-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _back_to_list(organization_id: UUID, query: str) -> HttpResponse:
    """Redirect to the list with the filters it was showing (only our own parameters)."""
    url = reverse("devices:device-list", args=[organization_id])
    kept = QueryDict(query, mutable=True)
    for name in list(kept):
        if name not in (*DeviceFilterSet.base_filters, "page", "per_page"):
            del kept[name]
    return redirect(f"{url}?{kept.urlencode()}" if kept else url)


@organization_view
@require_POST
def device_bulk_move(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Move the selected devices into one folder (admin+), then back to the same list."""
    membership = request.membership
    access.require(membership, Action.DEVICE_MANAGE)
    folders = organization_selectors.folder_tree(membership)
    form = BulkMoveForm(request.POST, folders=folders)
    back = _back_to_list(organization_id, request.POST.get("query", ""))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return back
    folder = form.folders[form.cleaned_data["folder"]]
    try:
        moved = services.move_devices(
            actor=membership, device_ids=form.cleaned_data["selection"], folder=folder
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return back
    messages.success(
        request,
        ngettext(
            "%(count)d device moved to “%(folder)s”.",
            "%(count)d devices moved to “%(folder)s”.",
            len(moved),
        )
        % {"count": len(moved), "folder": folder.name},
    )
    return back
