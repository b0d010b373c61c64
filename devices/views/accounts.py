"""The device's local accounts tab (admin+): list, create, change a password, delete.

Every page reads and writes through `devices.accounts`, which talks to the device; what the
device refuses is shown on the form with its own words. Accounts in use ("used by …") get no
buttons here, and the service refuses them anyway.
"""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, DomainError, Forbidden, NotFound
from common.forms import BootstrapForm, apply_domain_error, form_status
from devices import accounts, selectors
from devices.models import Device
from devices.vapix import DeviceRole
from devices.vapix import rules as device_rules
from organizations import access
from organizations.roles import Action
from organizations.tenancy import organization_view

ROLE_CHOICES = [(role.value, label) for role, label in accounts.ROLE_LABELS.items()]


class AccountCreateForm(BootstrapForm):
    """Name, password, role and PTZ of a new account; the device's rules are the service's."""

    name = forms.CharField(
        label=_("Account name"),
        max_length=accounts.NAME_MAX_LENGTH,
        help_text=_("Letters A to Z, a to z and digits only."),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=accounts.PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial=DeviceRole.VIEWER)
    ptz = forms.BooleanField(label=_("May control PTZ"), required=False)


class AccountPasswordForm(BootstrapForm):
    password = forms.CharField(
        label=_("New password"),
        max_length=accounts.PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def _managed_device(request: HttpRequest, device_id: UUID) -> Device:
    """Return the visible device (404 otherwise) if the member manages devices (403 otherwise)."""
    device = selectors.get_visible_device(request.membership, device_id)
    access.require(request.membership, Action.DEVICE_MANAGE, device)
    return device


def _account_name(account_name: str) -> str:
    # A name the device could not hold names no account: not found rather than a form error.
    if not device_rules.USER_NAME.fullmatch(account_name):
        raise Http404
    return account_name


def _read_accounts(request: HttpRequest, device: Device):
    """Return (the device's accounts, None) or (None, why they could not be read)."""
    try:
        return accounts.list_accounts(actor=request.membership, device=device), None
    except (NotFound, Forbidden):
        raise
    except DomainError as error:
        return None, error


def _refusal_up_front(request: HttpRequest, device: Device, name: str) -> str:
    """Say, before anything is typed, what would refuse a change of this account (GET only)."""
    listing, read_error = _read_accounts(request, device)
    if read_error is not None:
        return str(read_error.message)
    try:
        accounts.refuse_if_used(accounts.find_account(listing.accounts, name))
    except (NotFound, Conflict) as error:
        return str(error.message)
    return ""


@organization_view
def device_accounts(request: HttpRequest, organization_id: UUID, device_id: UUID) -> HttpResponse:
    """List the device's accounts; create one (POST)."""
    device = _managed_device(request, device_id)
    form = AccountCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account = accounts.create_account(
                actor=request.membership,
                device=device,
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password"],
                role=form.cleaned_data["role"],
                ptz=form.cleaned_data["ptz"],
            )
        except (NotFound, Forbidden):
            raise
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request, _("Account “%(name)s” is created on the device.") % {"name": account.name}
            )
            return redirect("devices:device-accounts", organization_id, device.pk)
    listing, read_error = _read_accounts(request, device)
    status = form_status(form)
    if read_error is not None and status == 200:
        status = read_error.http_status
    return render(
        request,
        "devices/device_accounts.html",
        {
            "device": device,
            "active_tab": "accounts",
            "listing": listing,
            "read_error": read_error.message if read_error else "",
            "form": form,
        },
        status=status,
    )


@organization_view
def device_account_password(
    request: HttpRequest, organization_id: UUID, device_id: UUID, account_name: str
) -> HttpResponse:
    """Set a new password for one account of the device."""
    device = _managed_device(request, device_id)
    name = _account_name(account_name)
    form = AccountPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.change_password(
                actor=request.membership,
                device=device,
                name=name,
                password=form.cleaned_data["password"],
            )
        except Forbidden:
            raise
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request, _("The password of “%(name)s” is changed on the device.") % {"name": name}
            )
            return redirect("devices:device-accounts", organization_id, device.pk)
    refusal = "" if form.is_bound else _refusal_up_front(request, device, name)
    return render(
        request,
        "devices/device_account_password.html",
        {
            "device": device,
            "active_tab": "accounts",
            "account_name": name,
            "form": form,
            "refusal": refusal,
        },
        status=form_status(form),
    )


@organization_view
def device_account_delete(
    request: HttpRequest, organization_id: UUID, device_id: UUID, account_name: str
) -> HttpResponse:
    """Confirm (GET) and delete (POST) one account of the device."""
    device = _managed_device(request, device_id)
    name = _account_name(account_name)
    refusal = ""
    status = 200
    if request.method != "POST":
        refusal = _refusal_up_front(request, device, name)
    else:
        try:
            accounts.delete_account(actor=request.membership, device=device, name=name)
        except Forbidden:
            raise
        except DomainError as error:
            refusal, status = error.message, error.http_status
        else:
            messages.success(
                request, _("Account “%(name)s” is deleted from the device.") % {"name": name}
            )
            return redirect("devices:device-accounts", organization_id, device.pk)
    return render(
        request,
        "devices/device_account_delete.html",
        {"device": device, "active_tab": "accounts", "account_name": name, "refusal": refusal},
        status=status,
    )
