"""Server pages: list, detail with check-in history, upgrades, tokens, removal.

Every view goes through `organization_view`, reads through `devices.servers.selectors` and
writes through `devices.servers.services`. Monitoring needs Action.SERVER_MONITOR on the
server's folder (operator+); tokens and removal DEVICE_MANAGE, upgrades SERVER_UPGRADE (admin+).
"""

from datetime import timedelta
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import DomainError
from common.forms import apply_domain_error, form_status
from devices.servers import selectors, services
from devices.servers.forms import RegistrationTokenForm, ServerUpgradeForm
from devices.servers.models import CameraStationServer, ServerUpgrade
from organizations import access
from organizations import selectors as organization_selectors
from organizations.roles import Action
from organizations.tenancy import organization_view

# A clock further off than this is worth telling the admins (certificates, recordings' times).
CLOCK_SKEW_WARNING = timedelta(minutes=1)


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def _row(server: CameraStationServer, recommended, now) -> dict:
    active = getattr(server, "active_upgrades", [])
    upgrade = active[0] if active else None
    is_upgrading = upgrade is not None and upgrade.state in ServerUpgrade.UNDER_WAY_STATES
    return {
        "server": server,
        "connection": selectors.connection_state(server, is_upgrading=is_upgrading, now=now),
        "upgrade": upgrade,
        "is_upgrade_recommended": selectors.is_upgrade_recommended(server, recommended),
    }


def describe_clock_skew(seconds: int | None) -> str:
    """Return a warning about the server's clock, or "" when it is close enough to ours."""
    if seconds is None or abs(seconds) < CLOCK_SKEW_WARNING.total_seconds():
        return ""
    minutes = round(abs(seconds) / 60)
    if seconds > 0:
        return _("The server's clock is %(minutes)d minutes ahead of camfleet's.") % {
            "minutes": minutes
        }
    return _("The server's clock is %(minutes)d minutes behind camfleet's.") % {"minutes": minutes}


@organization_view
def server_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Servers: status, last check-in, version, cameras, storage, alerts, upgrade recommended."""
    membership = request.membership
    access.require(membership, Action.SERVER_MONITOR)
    recommended = selectors.recommended_release()
    now = timezone.now()
    rows = [_row(server, recommended, now) for server in selectors.servers_for_list(membership)]
    context = {
        "rows": rows,
        "recommended": recommended,
        "can_manage": access.can(membership, Action.DEVICE_MANAGE),
    }
    return render(request, "devices/servers/server_list.html", context)


@organization_view
def server_detail(request: HttpRequest, organization_id: UUID, server_id: UUID) -> HttpResponse:
    """One server: what it last reported, its check-in history and its upgrades."""
    membership = request.membership
    server = selectors.get_visible_server(membership, server_id)
    access.require(membership, Action.SERVER_MONITOR, server)
    return _render_detail(request, server)


def _render_detail(
    request: HttpRequest, server: CameraStationServer, *, form=None, status: int = 200
) -> HttpResponse:
    membership = request.membership
    recommended = selectors.recommended_release()
    upgrades = list(selectors.server_upgrades(server)[:20])
    active = next((upgrade for upgrade in upgrades if upgrade.is_active), None)
    can_upgrade = access.can(membership, Action.SERVER_UPGRADE, server)
    if can_upgrade and form is None and active is None:
        form = ServerUpgradeForm(releases=selectors.server_releases(), recommended=recommended)
    server.active_upgrades = [active] if active else []
    context = {
        "server": server,
        "row": _row(server, recommended, timezone.now()),
        "check_ins": selectors.server_check_ins(server)[:50],
        "upgrades": upgrades,
        "active_upgrade": active,
        "cancel_refusal": services.cancel_refusal(active) if active else None,
        "upgrade_form": form if active is None else None,
        "can_upgrade": can_upgrade,
        "can_manage": access.can(membership, Action.DEVICE_MANAGE, server),
        "clock_warning": describe_clock_skew(server.clock_skew_seconds),
    }
    return render(request, "devices/servers/server_detail.html", context, status=status)


@organization_view
@require_POST
def server_upgrade(request: HttpRequest, organization_id: UUID, server_id: UUID) -> HttpResponse:
    """Queue an upgrade of the server to a release from the list."""
    membership = request.membership
    server = selectors.get_visible_server(membership, server_id)
    access.require(membership, Action.SERVER_UPGRADE, server)
    form = ServerUpgradeForm(request.POST, releases=selectors.server_releases(), recommended=None)
    if form.is_valid():
        try:
            upgrade = services.queue_server_upgrade(
                actor=membership, server_id=server.pk, release_id=form.cleaned_data["release"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Upgrade to %(version)s is queued: the server picks it up at its next check-in.")
                % {"version": upgrade.target_version},
            )
            return redirect("servers:server-detail", organization_id, server.pk)
    return _render_detail(request, server, form=form, status=form_status(form))


@organization_view
@require_POST
def server_upgrade_cancel(
    request: HttpRequest, organization_id: UUID, upgrade_id: UUID
) -> HttpResponse:
    """Cancel a queued upgrade; refused with the reason once the server picked it up."""
    upgrade = services.cancel_server_upgrade(actor=request.membership, upgrade_id=upgrade_id)
    messages.success(
        request, _("The upgrade to %(version)s is cancelled.") % {"version": upgrade.target_version}
    )
    return redirect("servers:server-detail", organization_id, upgrade.server_id)


@organization_view
@require_POST
def server_token_revoke(
    request: HttpRequest, organization_id: UUID, server_id: UUID
) -> HttpResponse:
    """Revoke the server's token: its check-ins are refused from now on."""
    revoked = services.revoke_server_token(actor=request.membership, server_id=server_id)
    if revoked:
        messages.success(
            request,
            _("The server's token is revoked: its next check-in is refused."),
        )
    else:
        messages.info(request, _("The server has no token left to revoke."))
    return redirect("servers:server-detail", organization_id, server_id)


@organization_view
@require_http_methods(["GET", "POST"])
def server_remove(request: HttpRequest, organization_id: UUID, server_id: UUID) -> HttpResponse:
    """Remove a server after confirmation; its token stops and its history goes."""
    membership = request.membership
    server = selectors.get_visible_server(membership, server_id)
    access.require(membership, Action.DEVICE_MANAGE, server)
    if request.method == "POST":
        services.remove_server(actor=membership, server_id=server.pk)
        messages.success(request, _("Server “%(name)s” is removed.") % {"name": server.name})
        return redirect("servers:server-list", organization_id)
    return render(request, "devices/servers/server_remove.html", {"server": server})


@organization_view
@require_http_methods(["GET", "POST"])
def registration_token_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Registration tokens: create one for a folder (shown once), see and revoke the others."""
    membership = request.membership
    access.require(membership, Action.DEVICE_MANAGE)
    folders = organization_selectors.folder_tree(membership)
    form = RegistrationTokenForm(_posted(request), folders=folders)
    raw_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw_token = services.create_registration_token(
                actor=membership,
                folder_id=form.cleaned_data["folder_id"],
                name=form.cleaned_data["name"],
                valid_hours=form.cleaned_data["valid_hours"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Registration token “%(name)s” is created. Copy it now: it is shown only once.")
                % {"name": token.name},
            )
            form = RegistrationTokenForm(folders=folders)
    context = {
        "form": form,
        "raw_token": raw_token,
        "tokens": selectors.registration_tokens(membership)[:100],
        "now": timezone.now(),
    }
    return render(
        request, "devices/servers/registration_token_list.html", context, status=form_status(form)
    )


@organization_view
@require_POST
def registration_token_revoke(
    request: HttpRequest, organization_id: UUID, registration_token_id: UUID
) -> HttpResponse:
    """Revoke an unused registration token."""
    token = services.revoke_registration_token(
        actor=request.membership, token_id=registration_token_id
    )
    messages.success(request, _("Registration token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("servers:registration-token-list", organization_id)
