"""The base of every API view under /api/v1/organizations/<organization_id>/.

`OrganizationAPIView` resolves the caller's membership once, before the handler runs (no
membership, an archived organization or another organization's API token → 404), then loads
the child object named in the URL through its visibility selector (404 outside reach) and
checks the action the HTTP method needs (403 with a message a person can act on). This is
Sentry's `convert_args` + `scope_map`, our way: a view declares

    required_actions = {"GET": Action.MEMBER_LIST, "PATCH": Action.MEMBER_CHANGE}
    object_url_kwarg, object_name = "member_id", "member"

    def load_object(self, membership, object_id):
        return selectors.get_member(membership, object_id)

and its handlers receive `member` (the loaded object) instead of `member_id`.
"""

from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any, ClassVar
from uuid import UUID

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from rest_framework import authentication
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request

from common.errors import Forbidden, NotFound
from common.http import client_address
from organizations import access, audit, selectors
from organizations.api.authentication import ApiTokenAuthentication
from organizations.models import ApiToken, Membership
from organizations.tenancy import mfa_missing

# Methods answered by DRF itself, with no tenant data.
_UNDECLARED_METHODS = frozenset({"options"})


class OrganizationAPIView(GenericAPIView):
    """Resolve membership, child object and required action once; handlers get them ready.

    Sessions of members of an organization that requires MFA must have passed a second factor
    (403 otherwise). Subclasses build querysets from selectors, never from `Model.objects`.
    """

    authentication_classes = [ApiTokenAuthentication, authentication.SessionAuthentication]
    membership_url_kwarg = "organization_id"
    # Lists are scoped by selectors; no generic filter backend may widen or guess a queryset.
    filter_backends: list = []
    # The action each HTTP method needs; a handler without one is a configuration error.
    required_actions: ClassVar[Mapping[str, str]] = {}
    # The URL keyword of a child object's id, and the keyword its handler receives it under.
    object_url_kwarg: ClassVar[str | None] = None
    object_name: ClassVar[str] = "object"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        undeclared = [
            method.upper()
            for method in cls.http_method_names
            if method not in _UNDECLARED_METHODS
            and hasattr(cls, method)
            and method.upper() not in cls.required_actions
        ]
        if undeclared:
            raise ImproperlyConfigured(
                f"{cls.__name__} handles {', '.join(undeclared)} without saying which action "
                "it needs: add them to its required_actions, e.g. "
                '{"GET": Action.ORGANIZATION_VIEW}.'
            )

    def load_object(self, membership: Membership, object_id: UUID) -> Any:
        """Return the child object named in the URL through its selector; NotFound outside reach."""
        raise ImproperlyConfigured(f"{type(self).__name__} sets object_url_kwarg: add load_object.")

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
        obj = None
        if self.object_url_kwarg is not None:
            # 404 before 403: what the caller cannot see does not exist for them.
            obj = self.load_object(membership, kwargs[self.object_url_kwarg])
            # DRF calls the handler with `self.kwargs`: hand it the object instead of its id.
            del self.kwargs[self.object_url_kwarg]
            self.kwargs[self.object_name] = obj
        method = "GET" if request.method == "HEAD" else request.method
        if action := self.required_actions.get(method):
            access.require(membership, action, obj)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        scope = getattr(self, "_audit_scope", None)
        if scope is not None:
            scope.close()
        return super().finalize_response(request, response, *args, **kwargs)
