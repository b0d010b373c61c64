"""Control of one device from its live view tab: restart (with confirmation) and PTZ presets.

Operators in the device's folder and admins may do this (Action.DEVICE_CONTROL); the device's
own refusal is shown as it gave it.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from common.errors import DomainError, Forbidden, NotFound
from devices import control, selectors
from devices.models import Device
from organizations import access
from organizations.models import Membership
from organizations.roles import Action
from organizations.tenancy import organization_view


def _controllable_device(membership: Membership, device_id: UUID) -> Device:
    """Return a visible device the member may control; 404 outside reach, 403 below operator."""
    device = selectors.get_visible_device(membership, device_id)
    access.require(membership, Action.DEVICE_CONTROL, device)
    return device


def _refused_by_device(error: DomainError) -> bool:
    """Tell a refusal to show on the page (device or input) from one that ends the request."""
    return not isinstance(error, NotFound | Forbidden)


@organization_view
@require_http_methods(["GET", "POST"])
def device_restart(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """Ask for confirmation (GET), then restart the device (POST) and go back to the live view."""
    membership = request.membership
    device = _controllable_device(membership, device_id)
    if request.method == "POST":
        try:
            control.restart_device(actor=membership, device=device)
        except DomainError as error:
            if not _refused_by_device(error):
                raise
            messages.error(request, str(error.message))
        else:
            messages.success(
                request,
                _("%(device)s is restarting. The picture comes back in a minute or two.")
                % {"device": device.name},
            )
        return redirect("devices:device-live", organization_id, device.pk)
    return render(request, "devices/device_restart.html", {"device": device, "active_tab": "live"})


@organization_view
@require_http_methods(["GET", "POST"])
def device_ptz(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """The device's PTZ presets (GET; htmx loads them into the live view) and go-to (POST)."""
    membership = request.membership
    device = _controllable_device(membership, device_id)
    if request.method == "POST":
        preset = request.POST.get("preset", "")
        try:
            control.goto_ptz_preset(actor=membership, device=device, preset=preset)
        except DomainError as error:
            if not _refused_by_device(error):
                raise
            messages.error(request, str(error.message))
        else:
            messages.success(
                request, _("The camera is moving to the preset “%(preset)s”.") % {"preset": preset}
            )
        return redirect("devices:device-live", organization_id, device.pk)
    presets, refusal = [], ""
    try:
        presets = control.ptz_presets(actor=membership, device=device)
    except DomainError as error:
        if not _refused_by_device(error):
            raise
        refusal = str(error.message)
    context = {"device": device, "active_tab": "live", "presets": presets, "refusal": refusal}
    template = "devices/partials/ptz_presets.html" if request.htmx else "devices/device_ptz.html"
    return render(request, template, context)
