"""PLACEHOLDER until the device list and detail pages (helper `devlist`) are on main: the two
route names every device page links to. Drop this module and its two routes when merging."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from devices import selectors
from organizations.tenancy import organization_view


@organization_view
def device_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    return redirect("organizations:organization-detail", organization_id)


@organization_view
def device_detail(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    device = selectors.get_visible_device(request.membership, device_id)
    return render(request, "devices/device_base.html", {"device": device, "active_tab": "detail"})
