"""The organization API under /api/v1/organizations/: the same actions as the pages.

Every view below an organization extends `OrganizationAPIView` (`organizations.api.base`): the
membership and the child object come resolved from the URL (404 otherwise), the action each
method needs is declared and checked there; reads go through selectors, writes through services.
"""

from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import Conflict, Forbidden
from common.http import client_address
from organizations import access, audit, selectors, services
from organizations.api import serializers
from organizations.api.base import OrganizationAPIView
from organizations.models import ApiToken, Folder, Membership
from organizations.roles import Action
from organizations.tenancy import mfa_missing

ERRORS = {
    400: OpenApiResponse(description="Invalid input: {error: {code, message, fields}}"),
    403: OpenApiResponse(description="Visible but not allowed for this role."),
    404: OpenApiResponse(description="Not found, or outside the caller's reach."),
}
CONFLICT = {409: OpenApiResponse(description="Refused by a rule (e.g. the last owner).")}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describe `Authorization: Token <raw token>` in the OpenAPI schema."""

    target_class = "organizations.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An organization's API token: `Token <token>`.",
        }


def _input(serializer_class: type, data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Organizations ------------------------------------------------------------------------


class OrganizationListView(GenericAPIView):
    """The caller's organizations; create a new one (the caller becomes its owner).

    An organization that requires MFA is listed to a session without a second factor by id,
    name, role and `mfa_required: true` only, as its detail answers 403 `mfa_required`.
    """

    serializer_class = serializers.OrganizationListItemSerializer

    def get_queryset(self):
        organizations = selectors.member_organizations(self.request.user)
        token = self.request.auth if isinstance(self.request.auth, ApiToken) else None
        if token is not None:
            # A token speaks for one organization only.
            organizations = organizations.filter(pk=token.organization_id)
        return organizations

    def _memberships(self) -> dict:
        return {
            membership.organization_id: membership
            for membership in self.request.user.memberships.select_related("organization")
        }

    @extend_schema(
        operation_id="organizations_list",
        responses={200: serializers.OrganizationSerializer(many=True), 404: ERRORS[404]},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        memberships = self._memberships()
        # The same rule as the detail's 403; API tokens are not asked for a second factor.
        mfa_missing_ids = (
            set()
            if isinstance(request.auth, ApiToken)
            else {
                organization_id
                for organization_id, membership in memberships.items()
                if mfa_missing(request._request, membership)
            }
        )
        context = {
            "roles": {key: membership.role for key, membership in memberships.items()},
            "mfa_missing": mfa_missing_ids,
        }
        serializer = self.get_serializer(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        request=serializers.OrganizationCreateSerializer,
        responses={201: serializers.OrganizationSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            raise Forbidden(
                "token_scope",
                _("API tokens act in one organization; create organizations signed in."),
            )
        data = _input(serializers.OrganizationCreateSerializer, request.data)
        with audit.request_context(client_address=client_address(request._request)):
            organization = services.create_organization(
                user=request.user,
                name=data["name"],
                notes=data["notes"],
                folder_names=data["folder_names"],
            )
        body = serializers.OrganizationSerializer(
            organization, context={"roles": {organization.pk: "owner"}}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class OrganizationDetailView(OrganizationAPIView):
    """One organization: read it; change name, notes and security settings (admin+)."""

    serializer_class = serializers.OrganizationSerializer
    required_actions = {"GET": Action.ORGANIZATION_VIEW, "PATCH": Action.ORGANIZATION_CHANGE}

    def _body(self, membership, organization) -> dict:
        roles = {organization.pk: membership.role}
        return serializers.OrganizationSerializer(organization, context={"roles": roles}).data

    @extend_schema(responses={200: serializers.OrganizationSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID) -> Response:
        return Response(self._body(request.membership, request.organization))

    @extend_schema(
        request=serializers.OrganizationUpdateSerializer,
        responses={200: serializers.OrganizationSerializer, **ERRORS},
    )
    def patch(self, request: Request, organization_id: UUID) -> Response:
        membership = request.membership
        data = _input(serializers.OrganizationUpdateSerializer, request.data)
        # One locked transaction; a field left out is None, which the service leaves as it is.
        organization = services.update_organization(
            actor=membership,
            name=data.get("name"),
            notes=data.get("notes"),
            allow_elevated_invitations=data.get("allow_elevated_invitations"),
            requires_mfa=data.get("requires_mfa"),
        )
        return Response(self._body(membership, organization))


class OrganizationArchiveView(OrganizationAPIView):
    """Archive the organization (owner only): send its exact ID and `understood: true`."""

    serializer_class = serializers.OrganizationArchiveSerializer
    required_actions = {"POST": Action.ORGANIZATION_ARCHIVE}

    @extend_schema(
        request=serializers.OrganizationArchiveSerializer,
        responses={204: None, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        data = _input(serializers.OrganizationArchiveSerializer, request.data)
        services.archive_organization(
            actor=request.membership,
            confirmation_id=data["confirmation_id"],
            understood=data["understood"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Members ------------------------------------------------------------------------------


class MemberListView(OrganizationAPIView):
    """The organization's members with role and directly granted folders."""

    serializer_class = serializers.MemberSerializer
    required_actions = {"GET": Action.MEMBER_LIST}

    def get_queryset(self):
        return selectors.members(self.request.membership)

    @extend_schema(
        operation_id="organizations_members_list",
        responses={200: serializers.MemberSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class MemberDetailView(OrganizationAPIView):
    """One member: read; change role and folders (admin+); remove (admin+)."""

    serializer_class = serializers.MemberSerializer
    required_actions = {
        "GET": Action.MEMBER_LIST,
        "PATCH": Action.MEMBER_CHANGE,
        "DELETE": Action.MEMBER_REMOVE,
    }
    object_url_kwarg, object_name = "member_id", "member"

    def load_object(self, membership: Membership, object_id: UUID) -> Membership:
        return selectors.get_member(membership, object_id)

    @extend_schema(responses={200: serializers.MemberSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID, member: Membership) -> Response:
        return Response(self.get_serializer(member).data)

    @extend_schema(
        request=serializers.MemberChangeSerializer,
        responses={200: serializers.MemberSerializer, **ERRORS, **CONFLICT},
    )
    def patch(self, request: Request, organization_id: UUID, member: Membership) -> Response:
        data = _input(serializers.MemberChangeSerializer, request.data)
        member = services.change_member(
            actor=request.membership,
            member_id=member.pk,
            role=data["role"],
            folder_ids=data.get("folder_ids"),
        )
        return Response(self.get_serializer(member).data)

    @extend_schema(responses={204: None, **ERRORS, **CONFLICT})
    def delete(self, request: Request, organization_id: UUID, member: Membership) -> Response:
        # An admin removing an owner was refused by the base (403), not here as a conflict.
        result = services.remove_members(actor=request.membership, member_ids=[member.pk])
        if not result.removed:
            _member, reason = result.refused[0]
            raise Conflict("not_removed", reason)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Invitations --------------------------------------------------------------------------


class InvitationListView(OrganizationAPIView):
    """Pending invitations (admin+); invite several addresses with one role and folders."""

    serializer_class = serializers.InvitationSerializer
    required_actions = {"GET": Action.MEMBER_INVITE, "POST": Action.MEMBER_INVITE}

    def get_queryset(self):
        return selectors.pending_invitations(self.request.membership)

    @extend_schema(
        operation_id="organizations_invitations_list",
        responses={200: serializers.InvitationSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=serializers.InvitationCreateSerializer,
        responses={201: serializers.InvitationSerializer(many=True), **ERRORS, **CONFLICT},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        data = _input(serializers.InvitationCreateSerializer, request.data)
        invitations = services.invite_members(
            actor=request.membership,
            emails=data["emails"],
            role=data["role"],
            folder_ids=data["folder_ids"],
            request=request._request,
        )
        body = self.get_serializer(invitations, many=True).data
        return Response(body, status=status.HTTP_201_CREATED)


class InvitationDetailView(OrganizationAPIView):
    """Revoke a pending invitation (admin+)."""

    serializer_class = serializers.InvitationSerializer
    required_actions = {"DELETE": Action.MEMBER_INVITE}

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, organization_id: UUID, invitation_id: UUID) -> Response:
        services.revoke_invitation(actor=request.membership, invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResendView(OrganizationAPIView):
    """E-mail a pending invitation again with a new link; the old link dies (admin+, 1/minute)."""

    serializer_class = serializers.InvitationSerializer
    required_actions = {"POST": Action.MEMBER_INVITE}

    @extend_schema(
        request=None, responses={200: serializers.InvitationSerializer, **ERRORS, **CONFLICT}
    )
    def post(self, request: Request, organization_id: UUID, invitation_id: UUID) -> Response:
        invitation = services.resend_invitation(
            actor=request.membership, invitation_id=invitation_id, request=request._request
        )
        return Response(self.get_serializer(invitation).data)


# --- Folders ------------------------------------------------------------------------------


class FolderViewMixin:
    """Serialize folders with their parent id only when the caller can see that parent."""

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        membership = self.request.membership
        if args and not access.sees_all_folders(membership):
            folders = list(args[0]) if kwargs.get("many") else [args[0]]
            parent_ids = {folder.parent_id for folder in folders if folder.parent_id}
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["visible_parent_ids"] = set(
                access.visible_folders(membership)
                .filter(pk__in=parent_ids)
                .values_list("pk", flat=True)
            )
        return super().get_serializer(*args, **kwargs)


class FolderListView(FolderViewMixin, OrganizationAPIView):
    """The folders the caller may see, in tree order; create a folder (admin+)."""

    serializer_class = serializers.FolderSerializer
    required_actions = {"GET": Action.ORGANIZATION_VIEW, "POST": Action.FOLDER_MANAGE}

    def get_queryset(self):
        return selectors.folder_tree(self.request.membership)

    @extend_schema(
        operation_id="organizations_folders_list",
        responses={200: serializers.FolderSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=serializers.FolderCreateSerializer,
        responses={201: serializers.FolderSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        data = _input(serializers.FolderCreateSerializer, request.data)
        folder = services.create_folder(
            actor=request.membership,
            parent_id=data["parent_id"],
            name=data["name"],
            time_zone=data["time_zone"],
        )
        return Response(self.get_serializer(folder).data, status=status.HTTP_201_CREATED)


class VisibleFolderMixin:
    """Load the folder of the URL once, through the visibility selector (404 outside reach)."""

    object_url_kwarg, object_name = "folder_id", "folder"

    def load_object(self, membership: Membership, object_id: UUID) -> Folder:
        return selectors.get_visible_folder(membership, object_id)


class FolderDetailView(VisibleFolderMixin, FolderViewMixin, OrganizationAPIView):
    """One visible folder: read; rename or set its time zone; delete when empty (admin+)."""

    serializer_class = serializers.FolderSerializer
    required_actions = {
        "GET": Action.ORGANIZATION_VIEW,
        "PATCH": Action.FOLDER_MANAGE,
        "DELETE": Action.FOLDER_MANAGE,
    }

    @extend_schema(responses={200: serializers.FolderSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID, folder: Folder) -> Response:
        return Response(self.get_serializer(folder).data)

    @extend_schema(
        request=serializers.FolderUpdateSerializer,
        responses={200: serializers.FolderSerializer, **ERRORS, **CONFLICT},
    )
    def patch(self, request: Request, organization_id: UUID, folder: Folder) -> Response:
        data = _input(serializers.FolderUpdateSerializer, request.data)
        # A field left out is None: the service keeps the value the locked row has.
        folder = services.rename_folder(
            actor=request.membership,
            folder_id=folder.pk,
            name=data.get("name"),
            time_zone=data.get("time_zone"),
        )
        return Response(self.get_serializer(folder).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "understood",
                bool,
                description='"I understand the risks": must be true.',
                required=True,
            )
        ],
        responses={204: None, **ERRORS, **CONFLICT},
    )
    def delete(self, request: Request, organization_id: UUID, folder: Folder) -> Response:
        data = _input(serializers.FolderDeleteSerializer, request.query_params)
        services.delete_folder(
            actor=request.membership, folder_id=folder.pk, understood=data["understood"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class FolderMoveView(VisibleFolderMixin, FolderViewMixin, OrganizationAPIView):
    """Move a folder (with its subtree) under another folder, never into its own subtree."""

    serializer_class = serializers.FolderSerializer
    required_actions = {"POST": Action.FOLDER_MANAGE}

    @extend_schema(
        request=serializers.FolderMoveSerializer,
        responses={200: serializers.FolderSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request: Request, organization_id: UUID, folder: Folder) -> Response:
        data = _input(serializers.FolderMoveSerializer, request.data)
        folder = services.move_folder(
            actor=request.membership, folder_id=folder.pk, new_parent_id=data["new_parent_id"]
        )
        return Response(self.get_serializer(folder).data)


# --- Activity -----------------------------------------------------------------------------


class AuditEventListView(OrganizationAPIView):
    """The organization's audit events, newest first (admin+)."""

    serializer_class = serializers.AuditEventSerializer
    required_actions = {"GET": Action.AUDIT_VIEW}

    def get_queryset(self):
        filters = _input(serializers.AuditEventFilterSerializer, self.request.query_params)
        return selectors.audit_events(self.request.membership, **filters)

    @extend_schema(
        operation_id="organizations_audit_events_list",
        parameters=[serializers.AuditEventFilterSerializer],
        responses={200: serializers.AuditEventSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- API tokens ---------------------------------------------------------------------------


class ApiTokenListView(OrganizationAPIView):
    """The caller's API tokens (all members' for admins); create one — its secret shows once."""

    serializer_class = serializers.ApiTokenSerializer
    required_actions = {"GET": Action.ORGANIZATION_VIEW, "POST": Action.ORGANIZATION_VIEW}

    def get_queryset(self):
        return selectors.api_tokens(self.request.membership)

    @extend_schema(
        operation_id="organizations_api_tokens_list",
        responses={200: serializers.ApiTokenSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=serializers.ApiTokenCreateSerializer,
        responses={201: serializers.ApiTokenCreatedSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        if isinstance(request.auth, ApiToken):
            # A leaked token must not mint year-long successors that outlive its revocation.
            raise Forbidden(
                "token_scope",
                _("API tokens are created signed in, not with another API token."),
            )
        data = _input(serializers.ApiTokenCreateSerializer, request.data)
        token, raw = services.create_api_token(
            actor=request.membership, name=data["name"], expires_on=data["expires_on"]
        )
        body = serializers.ApiTokenCreatedSerializer(token, context={"raw_token": raw}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApiTokenDetailView(OrganizationAPIView):
    """Revoke an API token: the caller's own, or any member's for admins."""

    serializer_class = serializers.ApiTokenSerializer
    # Whose token it is decides the rest; the service asks access with the token in hand.
    required_actions = {"DELETE": Action.ORGANIZATION_VIEW}

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, organization_id: UUID, token_id: UUID) -> Response:
        services.revoke_api_token(actor=request.membership, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
