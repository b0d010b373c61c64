"""The one door into an organization: HTML views under /o/<id>/ and API views under
/api/v1/organizations/<id>/ resolve the caller's membership here, or answer 404.

Everything a tenant view needs comes from `request.membership` (and `request.organization`);
nothing below the URL is looked up without it.
"""

from collections.abc import Callable
from contextlib import ExitStack
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import authentication
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request

from accounts.selectors import has_mfa
from common.errors import DomainError, Forbidden, NotFound
from common.http import client_address
from organizations import audit, selectors
from organizations.api.authentication import ApiTokenAuthentication
from organizations.models import ApiToken, Membership


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


class OrganizationAPIView(GenericAPIView):
    """Base of every API view under /api/v1/organizations/<organization_id>/.

    Resolves `request.membership` from the URL before the handler runs: no membership, an
    archived organization, or an API token of another organization → 404. Sessions of members
    of an organization that requires MFA must have passed a second factor (403 otherwise).
    Subclasses build querysets from selectors, never from `Model.objects`.
    """

    authentication_classes = [ApiTokenAuthentication, authentication.SessionAuthentication]
    membership_url_kwarg = "organization_id"
    # Lists are scoped by selectors; no generic filter backend may widen or guess a queryset.
    filter_backends: list = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self._audit_scope = ExitStack()
        super().initial(request, *args, **kwargs)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        organization_id = kwargs[self.membership_url_kwarg]
        if token is not None and token.organization_id != organization_id:
            raise NotFound("organization_not_found", _("Organization not found."))
        if token is not None:
            # The authentication loaded the token's membership fresh for this request.
            membership = token.membership
        else:
            membership = selectors.get_membership(request.user, organization_id)
        if token is None and mfa_missing(request._request, membership):
            raise Forbidden(
                "mfa_required",
                _(
                    "This organization requires multi-factor authentication for its members. "
                    "Sign in with your second factor (add one under Security if you have none), "
                    "or call the API with an API token."
                ),
            )
        request.membership = membership
        request.organization = membership.organization
        request._request.membership = membership
        request._request.organization = membership.organization
        self._audit_scope.enter_context(
            audit.request_context(client_address=client_address(request._request), api_token=token)
        )

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        scope = getattr(self, "_audit_scope", None)
        if scope is not None:
            scope.close()
        return super().finalize_response(request, response, *args, **kwargs)
