"""Device accounts in the API (admin+): the same actions as the accounts tab.

    GET    …/devices/<id>/accounts/                  the device's accounts, with "used_by"
    POST   …/devices/<id>/accounts/                  create {name, password, role, ptz}
    PATCH  …/devices/<id>/accounts/<account_name>/   change the password {password}
    DELETE …/devices/<id>/accounts/<account_name>/   delete

Errors: 400 bad input (the device's rules, checked before sending), 404 outside reach or no such
account, 403 below admin, 409 refused (an account in use, the last administrator, or the device's
own refusal, `code` "device_refused"), 502/504-like device failures with the stable codes of
`devices.connection.device_error` (`unreachable`, `timeout`, `auth_failed`, …).
"""

from uuid import UUID

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import StrictCharField
from common.errors import NotFound
from devices import accounts, selectors
from devices.accounts import DeviceAccount
from devices.models import Device
from devices.vapix import rules as device_rules
from organizations.api.base import OrganizationAPIView
from organizations.models import Membership
from organizations.roles import Action

ERRORS = {
    400: OpenApiResponse(description="Invalid input: {error: {code, message, fields}}"),
    403: OpenApiResponse(description="Visible but not allowed for this role."),
    404: OpenApiResponse(description="Not found, or outside the caller's reach."),
    409: OpenApiResponse(description="Refused: account in use, last administrator, or the device."),
    502: OpenApiResponse(description="The device failed: unreachable, timeout, auth_failed, …"),
}


# The roles of a device's local account (VAPIX.md §2.3), named in the schema as its own enum.
DEVICE_ACCOUNT_ROLES = [(role.value, label) for role, label in accounts.ROLE_LABELS.items()]


class AccountUseSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["service", "application"])
    label = serializers.CharField()


class DeviceAccountSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=DEVICE_ACCOUNT_ROLES, allow_null=True)
    ptz = serializers.BooleanField()
    used_by = AccountUseSerializer(many=True)
    protected = serializers.BooleanField(source="is_protected")


class DeviceAccountListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = DeviceAccountSerializer(many=True)
    passphrase_policy = serializers.CharField(allow_null=True)


class AccountCreateSerializer(serializers.Serializer):
    # Lengths and characters are the device's rules, checked by the service with its messages.
    name = StrictCharField(trim_whitespace=False)
    password = StrictCharField(trim_whitespace=False, write_only=True)
    role = serializers.ChoiceField(choices=DEVICE_ACCOUNT_ROLES)
    ptz = serializers.BooleanField(default=False)


class AccountPasswordSerializer(serializers.Serializer):
    password = StrictCharField(trim_whitespace=False, write_only=True)


def _input(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _DeviceAccountsBase(OrganizationAPIView):
    object_url_kwarg, object_name = "device_id", "device"

    def load_object(self, membership: Membership, object_id: UUID) -> Device:
        return selectors.get_visible_device(membership, object_id)


class DeviceAccountListView(_DeviceAccountsBase):
    """The device's local accounts; create one."""

    serializer_class = DeviceAccountSerializer
    required_actions = {"GET": Action.DEVICE_MANAGE, "POST": Action.DEVICE_MANAGE}

    @extend_schema(
        operation_id="devices_accounts_list",
        responses={200: DeviceAccountListSerializer, **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID, device: Device) -> Response:
        listing = accounts.list_accounts(actor=request.membership, device=device)
        body = {
            "count": len(listing.accounts),
            "results": listing.accounts,
            "passphrase_policy": listing.passphrase_policy,
        }
        return Response(DeviceAccountListSerializer(body).data)

    @extend_schema(
        request=AccountCreateSerializer, responses={201: DeviceAccountSerializer, **ERRORS}
    )
    def post(self, request: Request, organization_id: UUID, device: Device) -> Response:
        data = _input(AccountCreateSerializer, request.data)
        account = accounts.create_account(actor=request.membership, device=device, **data)
        return Response(DeviceAccountSerializer(account).data, status=status.HTTP_201_CREATED)


class DeviceAccountDetailView(_DeviceAccountsBase):
    """One account of the device: change its password, or delete it."""

    serializer_class = DeviceAccountSerializer
    required_actions = {"PATCH": Action.DEVICE_MANAGE, "DELETE": Action.DEVICE_MANAGE}

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # A name the device could not hold names no account (after the device's 404/403).
        if not device_rules.USER_NAME.fullmatch(self.kwargs["account_name"]):
            raise NotFound("account_not_found", _("The device has no such account."))

    @extend_schema(
        request=AccountPasswordSerializer, responses={200: DeviceAccountSerializer, **ERRORS}
    )
    def patch(
        self, request: Request, organization_id: UUID, device: Device, account_name: str
    ) -> Response:
        data = _input(AccountPasswordSerializer, request.data)
        account: DeviceAccount = accounts.change_password(
            actor=request.membership, device=device, name=account_name, password=data["password"]
        )
        return Response(DeviceAccountSerializer(account).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(
        self, request: Request, organization_id: UUID, device: Device, account_name: str
    ) -> Response:
        accounts.delete_account(actor=request.membership, device=device, name=account_name)
        return Response(status=status.HTTP_204_NO_CONTENT)
