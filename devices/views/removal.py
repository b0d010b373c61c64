"""Removing a device from the organization (admin+): a confirmation page, then the service."""

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from common.errors import NotFound
from devices import selectors, services
from organizations import access
from organizations.roles import Action
from organizations.tenancy import organization_view


@organization_view
def device_remove(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """Say what removal does (GET); remove the device (POST).

    Two admins confirming at once: the service locks the row, the first removes it and the
    second is told it is already gone (404), not shown an error.
    """
    membership = request.membership
    try:
        device = selectors.get_visible_device(membership, device_id)
    except NotFound:
        if request.method != "POST":
            raise
        return _already_removed(request)
    access.require(membership, Action.DEVICE_MANAGE, device)
    if request.method == "POST":
        try:
            services.remove_device(actor=membership, device=device)
        except NotFound:
            return _already_removed(request)
        messages.success(
            request,
            _("“%(name)s” is removed from the organization; its stored password is destroyed.")
            % {"name": device.name},
        )
        return redirect("devices:device-list", organization_id)
    # htmx loads the confirmation into the device page's dialog; a plain request gets a page.
    template = (
        "devices/partials/device_remove_form.html" if request.htmx else "devices/device_remove.html"
    )
    return render(
        request,
        template,
        {
            "device": device,
            "status_change_count": selectors.device_status_history(membership, device.pk).count(),
        },
    )


def _already_removed(request: HttpRequest) -> HttpResponse:
    return render(request, "devices/device_already_removed.html", status=404)
