"""Accept a device's changed certificate on its page (admin+), after looking at it."""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from common.errors import DomainError
from common.forms import BootstrapForm, apply_domain_error, form_status
from devices import selectors, services
from organizations import access
from organizations.roles import Action
from organizations.tenancy import organization_view


class AcceptCertificateForm(BootstrapForm):
    """The fingerprint shown to the administrator, sent back so a newer one is not accepted."""

    fingerprint = forms.CharField(
        label=gettext_lazy("Fingerprint"), max_length=200, widget=forms.HiddenInput
    )


@organization_view
@require_http_methods(["GET", "POST"])
def device_accept_certificate(
    request: HttpRequest, organization_id: UUID, device_id: UUID
) -> HttpResponse:
    """Show the pinned and the presented certificate; pin the presented one when confirmed."""
    membership = request.membership
    device = selectors.get_visible_device(membership, device_id)
    access.require(membership, Action.DEVICE_MANAGE, device)
    form = AcceptCertificateForm(
        request.POST if request.method == "POST" else None,
        initial={"fingerprint": device.presented_fingerprint},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_certificate(
                actor=membership, device_id=device.pk, fingerprint=form.cleaned_data["fingerprint"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
            device.refresh_from_db()
        else:
            messages.success(
                request,
                _("The new certificate of %(device)s is pinned; the device is checked again now.")
                % {"device": device.name},
            )
            return redirect("devices:device-detail", organization_id, device.pk)
    return render(
        request,
        "devices/device_accept_certificate.html",
        {"device": device, "form": form, "active_tab": "detail"},
        status=form_status(form),
    )
