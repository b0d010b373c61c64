"""The one door into an organization: HTML views under /o/<id>/ resolve the caller's membership
here (API views in `organizations.api.base`, with the same MFA rule), or answer 404.

Everything a tenant view needs comes from `request.membership` (and `request.organization`);
nothing below the URL is looked up without it.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.selectors import has_mfa
from common.errors import DomainError, Forbidden, NotFound
from common.http import client_address
from organizations import audit, selectors
from organizations.models import Membership


def mfa_missing(request: HttpRequest, membership: Membership) -> bool:
    """Tell whether the organization requires MFA and this session lacks a second factor."""
    if not membership.organization.requires_mfa:
        return False
    is_verified = getattr(request.user, "is_verified", None)
    return not (is_verified is not None and is_verified())


def render_domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    """Answer an HTML request with the page that fits a domain error (404, 403 or 400/409).

    An htmx request gets the message as an alert swapped into the page's message area.
    """
    if getattr(request, "htmx", False):
        response = render(
            request,
            "organizations/partials/error_alert.html",
            {"reason": str(error.message)},
            status=error.http_status,
        )
        response["HX-Retarget"] = "#messages"
        response["HX-Reswap"] = "innerHTML"
        return response
    if isinstance(error, NotFound):
        raise Http404(str(error.message))
    template = "403.html" if isinstance(error, Forbidden) else "organizations/error.html"
    return render(request, template, {"reason": str(error.message)}, status=error.http_status)


# The session remembers the organization last worked in, so the account pages keep it in view.
LAST_ORGANIZATION_SESSION_KEY = "last_organization_id"


def remember_organization(request: HttpRequest, membership: Membership) -> None:
    """Remember this organization as the one the person works in, for the account pages."""
    organization_id = str(membership.organization_id)
    if request.session.get(LAST_ORGANIZATION_SESSION_KEY) != organization_id:
        request.session[LAST_ORGANIZATION_SESSION_KEY] = organization_id


def remembered_membership(request: HttpRequest) -> Membership | None:
    """Return the person's membership in the organization they last worked in, if it still holds."""
    organization_id = request.session.get(LAST_ORGANIZATION_SESSION_KEY)
    if not organization_id:
        return None
    try:
        return selectors.get_membership(request.user, organization_id)
    except NotFound:
        # Removed, or the organization was archived meanwhile: forget it.
        request.session.pop(LAST_ORGANIZATION_SESSION_KEY, None)
        return None


def organization_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap an HTML view that takes `organization_id`: membership or 404, MFA policy, audit context.

    Sets `request.membership` and `request.organization`; domain errors the view lets through
    become the 404 page, the 403 page with the refusal's message, or an error page.
    """

    @login_required
    @wraps(view)
    def wrapper(
        request: HttpRequest, organization_id: UUID, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        try:
            membership = selectors.get_membership(request.user, organization_id)
        except NotFound:
            raise Http404 from None
        request.membership = membership
        request.organization = membership.organization
        remember_organization(request, membership)
        if mfa_missing(request, membership):
            if has_mfa(request.user):
                messages.warning(
                    request,
                    _(
                        "%(organization)s requires a second factor. Sign out and sign in again "
                        "with a code from your authenticator app or e-mail."
                    )
                    % {"organization": membership.organization.name},
                )
            else:
                messages.warning(
                    request,
                    _(
                        "%(organization)s requires every member to use multi-factor "
                        "authentication. Add a second factor to continue."
                    )
                    % {"organization": membership.organization.name},
                )
            if getattr(request, "htmx", False):
                # A plain redirect would be followed by htmx and the whole enrolment page swapped
                # into a dialog or a row; ask htmx to navigate instead.
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("accounts:security")
                return response
            return redirect("accounts:security")
        with audit.request_context(client_address=client_address(request)):
            try:
                return view(request, organization_id, *args, **kwargs)
            except DomainError as error:
                return render_domain_error(request, error)

    return wrapper
