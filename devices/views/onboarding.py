"""Onboarding pages (admin+): one device by address, or many from a CSV file with a preview.

Every page goes through `organization_view` (404 outside the organization); the pages check
DEVICE_MANAGE (403 with the reason for operators and viewers). The device talk happens in
`devices.onboarding` and the import's Celery tasks, never inside a transaction.
"""

import csv
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import DomainError
from common.forms import apply_domain_error, form_status
from common.spreadsheet import Echo, safe_cell
from devices import imports, onboarding, selectors
from devices.models import DeviceImport
from devices.onboarding_forms import ImportDevicesForm, OnboardDeviceForm
from organizations import access
from organizations import selectors as organization_selectors
from organizations.roles import Action
from organizations.tenancy import organization_view


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def _initial_folder(request: HttpRequest, folders) -> dict:
    wanted = request.GET.get("folder", "")
    return {"folder": wanted} if any(str(f.pk) == wanted for f in folders) else {}


@organization_view
@require_http_methods(["GET", "POST"])
def device_onboard(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Onboard one device: address, scheme, credentials and folder; each refusal on its field."""
    membership = request.membership
    access.require(membership, Action.DEVICE_MANAGE)
    folders = organization_selectors.folder_tree(membership)
    form = OnboardDeviceForm(
        _posted(request), folders=folders, initial=_initial_folder(request, folders)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            device = onboarding.onboard_device(
                actor=membership,
                folder_id=data["folder"],
                host=data["host"],
                port=data["port"],
                scheme=data["scheme"],
                username=data["username"],
                password=data["password"],
                expected_fingerprint=data["expected_fingerprint"],
            )
        except DomainError as error:
            apply_domain_error(form, error, "host")
        else:
            messages.success(request, _("“%(name)s” is onboarded.") % {"name": device.name})
            return redirect("devices:device-onboarded", organization_id, device.pk)
    return render(request, "devices/device_onboard.html", {"form": form}, status=form_status(form))


@organization_view
def device_onboarded(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """What onboarding stored: the identity read from the device and, for HTTPS, the pin."""
    device = selectors.get_visible_device(request.membership, device_id)
    return render(request, "devices/device_onboarded.html", {"device": device})


@organization_view
@require_http_methods(["GET", "POST"])
def import_create(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Upload a CSV of devices; every row is then checked in the background."""
    membership = request.membership
    access.require(membership, Action.DEVICE_MANAGE)
    folders = organization_selectors.folder_tree(membership)
    form = ImportDevicesForm(
        _posted(request),
        request.FILES if request.method == "POST" else None,
        folders=folders,
        initial=_initial_folder(request, folders),
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            device_import = imports.start_device_import(
                actor=membership,
                folder_id=form.cleaned_data["folder"],
                file_name=upload.name or "",
                content=upload.read(imports.MAX_IMPORT_BYTES + 1),
            )
        except DomainError as error:
            apply_domain_error(form, error, "file")
        else:
            return redirect("devices:import-detail", organization_id, device_import.pk)
    context = {
        "form": form,
        "max_rows": imports.MAX_IMPORT_ROWS,
        # So an import can be found again after leaving its page.
        "recent_imports": imports.device_imports(membership).order_by("-created_at", "-id")[:10],
    }
    return render(request, "devices/import_create.html", context, status=form_status(form))


def _import_context(device_import: DeviceImport) -> dict:
    progress = imports.import_progress(device_import)
    return {
        "device_import": device_import,
        "progress": progress,
        "rows": imports.import_rows(device_import),
        "is_running": device_import.state
        in (DeviceImport.State.CHECKING, DeviceImport.State.ONBOARDING),
        "can_onboard": device_import.state == DeviceImport.State.CHECKED and progress.ready > 0,
    }


@organization_view
def import_detail(request: HttpRequest, organization_id: UUID, import_id: UUID) -> HttpResponse:
    """An import's progress and per-row results; htmx polls the partial while it runs."""
    membership = request.membership
    device_import = imports.get_device_import(membership, import_id)
    access.require(membership, Action.DEVICE_MANAGE)
    context = _import_context(device_import)
    if getattr(request, "htmx", False):
        return render(request, "devices/partials/import_status.html", context)
    return render(request, "devices/import_detail.html", context)


@organization_view
@require_POST
def import_onboard(request: HttpRequest, organization_id: UUID, import_id: UUID) -> HttpResponse:
    """Onboard the ready rows of a checked import; a second click is told it already runs."""
    membership = request.membership
    device_import = imports.get_device_import(membership, import_id)
    access.require(membership, Action.DEVICE_MANAGE)
    try:
        imports.start_onboarding(actor=membership, import_id=device_import.pk)
    except DomainError as error:
        messages.warning(request, str(error.message))
    return redirect("devices:import-detail", organization_id, device_import.pk)


@organization_view
def import_results(request: HttpRequest, organization_id: UUID, import_id: UUID) -> HttpResponse:
    """Download an import's per-row results as CSV (never a password)."""
    membership = request.membership
    device_import = imports.get_device_import(membership, import_id)
    access.require(membership, Action.DEVICE_MANAGE)
    writer = csv.writer(Echo())
    lines = (
        writer.writerow([safe_cell(value) for value in row])
        for row in imports.result_rows(device_import)
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = f"device-import-{device_import.created_at:%Y%m%d-%H%M%S}-results.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
