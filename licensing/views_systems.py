"""System setup pages (PRODUCT.md §8): systems, hardware registration, system files, upgrades.

Every view goes through `organization_view`, needs Action.LICENSE_MANAGE (admin+), reads
through `licensing.selectors_systems` and writes through `licensing.services_systems`. The
public key that verifies license files is public: anyone may fetch it.
"""

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from common.forms import apply_domain_error, form_status
from licensing import selectors_systems, services, services_systems, signing, system_files
from licensing.forms_systems import (
    ApplyUpgradeForm,
    RegisterHardwareForm,
    SystemAllocateForm,
    SystemFileForm,
)
from organizations import access
from organizations.roles import Action
from organizations.tenancy import organization_view


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


@organization_view
@require_http_methods(["GET", "POST"])
def system_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """System setup: the systems with their licenses, and registering hardware."""
    membership = request.membership
    access.require(membership, Action.LICENSE_MANAGE)
    form = RegisterHardwareForm(
        _posted(request), hardware_models=selectors_systems.hardware_models()
    )
    if request.method == "POST" and form.is_valid():
        try:
            system = services_systems.register_hardware(
                actor=membership,
                hardware_model_id=form.cleaned_data["hardware_model"],
                serial=form.cleaned_data["serial"],
                name=form.cleaned_data["name"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Hardware %(serial)s is registered; its %(count)d pre-loaded licenses "
                    "are active."
                )
                % {"serial": system.identifier, "count": system.preloaded_count},
            )
            return redirect("licensing:system-detail", organization_id, system.pk)
    context = {"systems": selectors_systems.systems(membership), "form": form, "tab": "systems"}
    return render(request, "licensing/system_list.html", context, status=form_status(form))


@organization_view
@require_http_methods(["GET", "POST"])
def system_file_upload(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Upload system file: an offline system appears, or the one it describes is updated."""
    membership = request.membership
    access.require(membership, Action.LICENSE_MANAGE)
    form = SystemFileForm(_posted(request), request.FILES if request.method == "POST" else None)
    problems: dict = {}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            system, is_new = services_systems.upload_system_file(
                actor=membership, content=upload.read(system_files.MAX_FILE_BYTES + 1)
            )
        except DomainError as error:
            problems = {k: v for k, v in error.fields.items() if k != "file"}
            apply_domain_error(form, error, field="file")
        else:
            message = (
                _("Offline system %(id)s is added with %(devices)d devices.")
                if is_new
                else _("Offline system %(id)s is updated: %(devices)d devices.")
            )
            messages.success(
                request, message % {"id": system.identifier, "devices": len(system.devices)}
            )
            return redirect("licensing:system-detail", organization_id, system.pk)
    context = {"form": form, "problems": problems}
    return render(request, "licensing/system_file_upload.html", context, status=form_status(form))


def _render_detail(request: HttpRequest, system, *, form=None, status: int = 200) -> HttpResponse:
    context = {
        "system": system,
        "allocate_form": form or SystemAllocateForm(),
        "entries": selectors_systems.system_movements(system)[:50],
    }
    return render(request, "licensing/system_detail.html", context, status=status)


@organization_view
@require_GET
def system_detail(request: HttpRequest, organization_id: UUID, system_id: UUID) -> HttpResponse:
    """One system: its licenses and their history, Allocate licenses, the license file."""
    membership = request.membership
    system = selectors_systems.get_system(membership, system_id)
    access.require(membership, Action.LICENSE_MANAGE)
    return _render_detail(request, system)


@organization_view
@require_POST
def system_allocate(request: HttpRequest, organization_id: UUID, system_id: UUID) -> HttpResponse:
    """Allocate hardware-linked licenses from the wallet to this system."""
    membership = request.membership
    system = selectors_systems.get_system(membership, system_id)
    access.require(membership, Action.LICENSE_MANAGE)
    form = SystemAllocateForm(request.POST)
    if form.is_valid():
        try:
            services_systems.allocate_to_system(
                actor=membership, system_id=system.pk, count=form.cleaned_data["count"]
            )
        except DomainError as error:
            apply_domain_error(form, error, field="count")
        else:
            messages.success(
                request,
                _("%(count)d licenses are allocated to %(id)s.")
                % {"count": form.cleaned_data["count"], "id": system.identifier},
            )
            return redirect("licensing:system-detail", organization_id, system.pk)
    return _render_detail(request, system, form=form, status=form_status(form))


@organization_view
@require_GET
def system_license_file(
    request: HttpRequest, organization_id: UUID, system_id: UUID
) -> HttpResponse:
    """Download the system's license file, signed now."""
    membership = request.membership
    system = selectors_systems.get_system(membership, system_id)
    access.require(membership, Action.LICENSE_MANAGE)
    system, content = services_systems.issue_license_file(actor=membership, system_id=system.pk)
    response = HttpResponse(content, content_type="application/json")
    filename = services_systems.license_file_name(system)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@organization_view
@require_http_methods(["GET", "POST"])
def upgrade_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Upgrade licenses: apply them to one license (a system's or a subscription year's)."""
    membership = request.membership
    access.require(membership, Action.LICENSE_MANAGE)
    targets = selectors_systems.upgrade_targets(membership, services.today())
    form = ApplyUpgradeForm(_posted(request), targets=targets)
    if request.method == "POST" and form.is_valid():
        try:
            upgrade = services_systems.apply_upgrade_license(
                actor=membership, **form.service_arguments()
            )
        except DomainError as error:
            apply_domain_error(form, error, field="target")
        else:
            messages.success(
                request,
                _("The license is upgraded: %(count)d upgrade licenses are used.")
                % {"count": upgrade.count},
            )
            return redirect("licensing:upgrade-list", organization_id)
    context = {
        "form": form,
        "upgrades": selectors_systems.license_upgrades(membership),
        "tab": "upgrades",
    }
    return render(request, "licensing/upgrade_list.html", context, status=form_status(form))


@require_GET
def public_key(request: HttpRequest) -> HttpResponse:
    """Publish the public key that verifies our license files (PEM)."""
    response = HttpResponse(signing.public_key_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'inline; filename="camfleet-license-public-key.pem"'
    return response
