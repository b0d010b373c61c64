"""One device's page: identity, status and its history, and the audit events about it."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from devices import selectors
from organizations import access
from organizations.roles import Action
from organizations.tenancy import organization_view

HISTORY_SHOWN = 20
AUDIT_EVENTS_SHOWN = 20


@organization_view
def device_detail(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """The device's overview tab (viewer+ on its folder); 404 outside the member's reach."""
    membership = request.membership
    device = selectors.get_visible_device(membership, device_id)
    access.require(membership, Action.DEVICE_VIEW, device)
    can_see_audit = access.can(membership, Action.AUDIT_VIEW)
    context = {
        "device": device,
        "active_tab": "detail",
        "status_history": list(
            selectors.device_status_history(membership, device.pk)[:HISTORY_SHOWN]
        ),
        "can_see_audit": can_see_audit,
        "audit_events": (
            selectors.device_audit_events(membership, device, limit=AUDIT_EVENTS_SHOWN)
            if can_see_audit
            else []
        ),
    }
    return render(request, "devices/device_detail.html", context)
