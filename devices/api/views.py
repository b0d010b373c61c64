"""The device API: the collection (list, onboard), one device (read, move, new credentials,
remove) and the CSV import, under /api/v1/organizations/<organization_id>/devices/.

Every view extends `OrganizationAPIView`: membership and device come resolved from the URL
(404 outside reach) and each method's action is declared. Onboarding refusals answer 400 (409
for already_onboarded) with the stable codes of `devices.onboarding`.
"""

from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from common.pagination import EstimatedCountPagination
from devices import extensions, filters, imports, onboarding, selectors, services
from devices.api import serializers
from devices.models import Device, DeviceImport
from organizations import selectors as organization_selectors
from organizations.api.base import OrganizationAPIView
from organizations.models import Membership
from organizations.roles import Action

ERRORS = {
    400: OpenApiResponse(
        description="Invalid input, or the device refused onboarding: {error: {code, message, "
        "fields}} with code unreachable, timeout, auth_failed, insufficient_privilege (the "
        "account is not an administrator on the device), not_axis_device, address_not_allowed, "
        "certificate_untrusted, …"
    ),
    403: OpenApiResponse(description="Visible but not allowed for this role."),
    404: OpenApiResponse(description="Not found, or outside the caller's reach."),
}
CONFLICT = {
    409: OpenApiResponse(description="already_onboarded, or the import already runs/expired.")
}


def _input(serializer_class: type, data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class DeviceListView(OrganizationAPIView):
    """The devices the caller may see, filtered like the list page; onboard one device (admin+).

    The list's parameters (`q`, `folder`, `include_subfolders`, `model`, `firmware_version`,
    `status`, `upgrade_recommended`, `ordering`) come from `devices.filters`, the page's
    FilterSet; a bad one answers 400 `invalid_filter` naming it.
    """

    serializer_class = serializers.DeviceSerializer
    required_actions = {"GET": Action.DEVICE_VIEW, "POST": Action.DEVICE_MANAGE}
    # `count` is exact up to a limit, an estimate past it (`count_exact`); `next` reads all.
    pagination_class = EstimatedCountPagination

    def get_queryset(self):
        return selectors.visible_devices_in(self.request.membership).order_by("name", "id")

    @extend_schema(
        operation_id="devices_list",
        parameters=filters.openapi_parameters(),
        responses={200: serializers.DeviceSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        devices = filters.filtered_devices(
            request.membership, request.query_params, self.get_queryset(), blank_allowed=False
        )
        page = self.paginate_queryset(devices)
        # The page's upgrade advice in one catalog read, not one per device.
        context = {
            **self.get_serializer_context(),
            "upgrade_advice": extensions.upgrade_advice(page),
        }
        return self.get_paginated_response(
            serializers.DeviceSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        request=serializers.DeviceCreateSerializer,
        responses={201: serializers.DeviceSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        data = _input(serializers.DeviceCreateSerializer, request.data)
        device = onboarding.onboard_device(
            actor=request.membership,
            folder_id=data["folder"],
            host=data["host"],
            port=data.get("port"),
            scheme=data["scheme"],
            username=data["username"],
            password=data["password"],
            expected_fingerprint=data["certificate_fingerprint"],
        )
        return Response(self.get_serializer(device).data, status=status.HTTP_201_CREATED)


class DeviceDetailView(OrganizationAPIView):
    """One visible device: read; move and/or change its credentials (admin+); remove (admin+)."""

    serializer_class = serializers.DeviceSerializer
    required_actions = {
        "GET": Action.DEVICE_VIEW,
        "PATCH": Action.DEVICE_MANAGE,
        "DELETE": Action.DEVICE_MANAGE,
    }
    object_url_kwarg, object_name = "device_id", "device"

    def load_object(self, membership: Membership, object_id: UUID) -> Device:
        return selectors.get_visible_device(membership, object_id)

    @extend_schema(responses={200: serializers.DeviceSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID, device: Device) -> Response:
        return Response(self.get_serializer(device).data)

    @extend_schema(
        request=serializers.DeviceUpdateSerializer,
        responses={200: serializers.DeviceSerializer, **ERRORS},
    )
    def patch(self, request: Request, organization_id: UUID, device: Device) -> Response:
        membership = request.membership
        data = _input(serializers.DeviceUpdateSerializer, request.data)
        # The folder first: a folder outside reach refuses before the device is contacted.
        folder = (
            organization_selectors.get_visible_folder(membership, data["folder"])
            if "folder" in data
            else None
        )
        if "password" in data:
            device = onboarding.change_device_credentials(
                actor=membership,
                device=device,
                username=data["username"],
                password=data["password"],
            )
        if folder is not None:
            device = services.move_device(actor=membership, device=device, folder=folder)
        device = selectors.get_visible_device(membership, device.pk)
        return Response(self.get_serializer(device).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, organization_id: UUID, device: Device) -> Response:
        services.remove_device(actor=request.membership, device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceImportMixin:
    serializer_class = serializers.DeviceImportSerializer

    def import_body(self, device_import: DeviceImport) -> dict:
        context = {
            "progress": imports.import_progress(device_import),
            "rows": imports.import_rows(device_import),
        }
        return serializers.DeviceImportSerializer(device_import, context=context).data


class DeviceImportCreateView(DeviceImportMixin, OrganizationAPIView):
    """The organization's CSV imports, newest first (admin+); upload a CSV of devices (admin+):
    every row is checked in the background; read the import's URL (`Location`) for its state
    and rows, then POST its onboard URL to create the ready rows."""

    parser_classes = [MultiPartParser, FormParser]
    required_actions = {"GET": Action.DEVICE_MANAGE, "POST": Action.DEVICE_MANAGE}

    def get_queryset(self):
        return imports.device_imports(self.request.membership).order_by("-created_at", "-id")

    @extend_schema(
        operation_id="devices_import_list",
        responses={200: serializers.DeviceImportSummarySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        body = serializers.DeviceImportSummarySerializer(page, many=True).data
        return self.get_paginated_response(body)

    @extend_schema(
        request={"multipart/form-data": serializers.DeviceImportCreateSerializer},
        responses={202: serializers.DeviceImportSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        data = _input(serializers.DeviceImportCreateSerializer, request.data)
        upload = data["file"]
        # Read one byte more than the limit: enough to refuse a larger file, never all of it.
        content = upload.read(imports.MAX_IMPORT_BYTES + 1)
        device_import = imports.start_device_import(
            actor=request.membership,
            folder_id=data["folder"],
            file_name=upload.name or "",
            content=content,
        )
        device_import.refresh_from_db()
        location = reverse(
            "api:device-import-detail", args=[organization_id, device_import.pk], request=request
        )
        return Response(
            self.import_body(device_import),
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )


class DeviceImportDetailView(DeviceImportMixin, OrganizationAPIView):
    """One import (admin+): its state, counts by row state, and every row's result."""

    required_actions = {"GET": Action.DEVICE_MANAGE}
    object_url_kwarg, object_name = "import_id", "device_import"

    def load_object(self, membership: Membership, object_id: UUID) -> DeviceImport:
        return imports.get_device_import(membership, object_id)

    @extend_schema(responses={200: serializers.DeviceImportSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID, device_import: DeviceImport) -> Response:
        return Response(self.import_body(device_import))


class DeviceImportOnboardView(DeviceImportMixin, OrganizationAPIView):
    """Onboard the ready rows of a checked import (admin+); a second call answers 409."""

    required_actions = {"POST": Action.DEVICE_MANAGE}
    object_url_kwarg, object_name = "import_id", "device_import"

    def load_object(self, membership: Membership, object_id: UUID) -> DeviceImport:
        return imports.get_device_import(membership, object_id)

    @extend_schema(
        request=None, responses={202: serializers.DeviceImportSerializer, **ERRORS, **CONFLICT}
    )
    def post(
        self, request: Request, organization_id: UUID, device_import: DeviceImport
    ) -> Response:
        imports.start_onboarding(actor=request.membership, import_id=device_import.pk)
        device_import.refresh_from_db()
        return Response(self.import_body(device_import), status=status.HTTP_202_ACCEPTED)
