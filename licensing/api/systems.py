"""System setup API under /api/v1/organizations/<organization_id>/licensing/ (admin+).

Hardware systems (register; pre-loaded licenses activate), offline systems (upload the system
file as the request body), extension allocation to one system, signed license files, and
upgrade licenses applied to one license. Refusals answer with the stable error body.
"""

from typing import Any
from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import StrictCharField, StrictUUIDField
from common.errors import Invalid
from licensing import selectors_systems, services_systems, system_files
from licensing.api.serializers import MovementSerializer
from licensing.api.views import ERRORS, IDEMPOTENCY_KEY, LicensingAPIView, _idempotency_key, _input
from organizations.models import Membership

# --- Shapes -----------------------------------------------------------------------------------


class HardwareModelSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    model_number = serializers.CharField()
    name = serializers.CharField()
    product = serializers.CharField(source="product.code")
    preloaded_count = serializers.IntegerField()


class SystemDeviceSerializer(serializers.Serializer):
    serial = serializers.CharField()
    model = serializers.CharField()


class SystemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["hardware", "offline"])
    identifier = serializers.CharField(help_text="The hardware's serial, or the file's system_id.")
    name = serializers.CharField()
    product = serializers.CharField(source="product.code")
    hardware_model = serializers.CharField(
        source="hardware_model.model_number", default=None, allow_null=True
    )
    preloaded_count = serializers.IntegerField()
    licensed = serializers.IntegerField(help_text="Hardware-linked licenses the system holds.")
    is_upgraded = serializers.BooleanField()
    device_count = serializers.SerializerMethodField()
    devices = SystemDeviceSerializer(many=True)
    described_at = serializers.DateTimeField(allow_null=True)
    registered_at = serializers.DateTimeField()

    def get_device_count(self, system) -> int:
        return len(system.devices)


class RegisterHardwareSerializer(serializers.Serializer):
    hardware_model = StrictUUIDField()
    serial = StrictCharField(max_length=64)
    name = StrictCharField(max_length=120, required=False, allow_blank=True, default="")


class SystemAllocateSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=1_000_000)


class ApplyUpgradeSerializer(serializers.Serializer):
    product = StrictCharField(max_length=40)
    system = StrictUUIDField(required=False)
    year = serializers.IntegerField(min_value=1, max_value=1000, required=False)


class LicenseUpgradeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    product = serializers.CharField(source="product.code")
    count = serializers.IntegerField()
    system = serializers.CharField(source="target.system", allow_blank=True)
    year = serializers.IntegerField(source="target.year")
    applied_at = serializers.DateTimeField()
    movement = MovementSerializer(source="transaction")


# --- Views ------------------------------------------------------------------------------------


class HardwareModelListView(LicensingAPIView):
    """The hardware that can be registered, with the licenses each unit ships with."""

    serializer_class = HardwareModelSerializer
    pagination_class = None

    @extend_schema(
        operation_id="licensing_hardware_models_list",
        responses={200: HardwareModelSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        return Response(self.get_serializer(selectors_systems.hardware_models(), many=True).data)


class SystemListView(LicensingAPIView):
    """The organization's systems (hardware and offline); POST registers hardware."""

    serializer_class = SystemSerializer
    pagination_class = None

    @extend_schema(
        operation_id="licensing_systems_list",
        responses={200: SystemSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        found = selectors_systems.systems(request.membership)
        return Response(self.get_serializer(found, many=True).data)

    @extend_schema(
        operation_id="licensing_systems_register",
        request=RegisterHardwareSerializer,
        responses={201: SystemSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        data = _input(RegisterHardwareSerializer, request.data)
        system = services_systems.register_hardware(
            actor=request.membership,
            hardware_model_id=data["hardware_model"],
            serial=data["serial"],
            name=data["name"],
        )
        system = selectors_systems.get_system(request.membership, system.pk)
        return Response(self.get_serializer(system).data, status=status.HTTP_201_CREATED)


class SystemAPIView(LicensingAPIView):
    """A route under one system: loaded once through the selector (404 outside reach)."""

    object_url_kwarg, object_name = "system_id", "system"

    def load_object(self, membership: Membership, object_id: UUID) -> Any:
        return selectors_systems.get_system(membership, object_id)


class SystemDetailView(SystemAPIView):
    """One system: its licenses and (offline) the devices its last system file listed."""

    serializer_class = SystemSerializer

    @extend_schema(responses={200: SystemSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID, system: Any) -> Response:
        return Response(self.get_serializer(system).data)


class SystemAllocateView(SystemAPIView):
    """Allocate hardware-linked licenses (extensions) from the wallet to this system."""

    serializer_class = MovementSerializer

    @extend_schema(
        request=SystemAllocateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: MovementSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID, system: Any) -> Response:
        data = _input(SystemAllocateSerializer, request.data)
        movement = services_systems.allocate_to_system(
            actor=request.membership,
            system_id=system.pk,
            count=data["count"],
            idempotency_key=_idempotency_key(request),
        )
        return Response(self.get_serializer(movement).data, status=status.HTTP_201_CREATED)


class LicenseFileView(SystemAPIView):
    """Download the system's license file, signed now (verify with /licensing/public-key.pem)."""

    @extend_schema(
        operation_id="licensing_systems_license_file",
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The signed license file: {algorithm, key_id, payload, signature}.",
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, organization_id: UUID, system: Any) -> HttpResponse:
        system, content = services_systems.issue_license_file(
            actor=request.membership, system_id=system.pk
        )
        response = HttpResponse(content, content_type="application/json")
        filename = services_systems.license_file_name(system)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class SystemFileUploadView(LicensingAPIView):
    """Upload an offline system's description file (the request body); re-uploads update it."""

    serializer_class = SystemSerializer

    @extend_schema(
        operation_id="licensing_system_files_upload",
        request={"application/json": OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "System file",
                request_only=True,
                value={
                    "schema_version": 1,
                    "system_id": "ACS-7F3A-0042",
                    "product": "camera-station",
                    "name": "Warehouse recorder",
                    "generated_at": "2026-12-01T09:30:00Z",
                    "devices": [{"serial": "ACCC8E012345", "model": "AXIS M3086-V"}],
                },
            )
        ],
        description="The body is the system file itself (JSON, at most 512 KB); see README, "
        "'Offline systems', for the format.",
        responses={200: SystemSerializer, 201: SystemSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        # Refused before the body is read; DRF's parser then reads at most this much.
        if _content_length(request) > system_files.MAX_FILE_BYTES:
            message = system_files.too_large()
            raise Invalid("system_file_invalid", message, {"file": [message]})
        system, is_new = services_systems.upload_system_file(
            actor=request.membership, document=request.data
        )
        system = selectors_systems.get_system(request.membership, system.pk)
        return Response(
            self.get_serializer(system).data,
            status=status.HTTP_201_CREATED if is_new else status.HTTP_200_OK,
        )


def _content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class UpgradeListView(LicensingAPIView):
    """Upgrades applied in the organization, newest first."""

    serializer_class = LicenseUpgradeSerializer
    pagination_class = None

    @extend_schema(
        operation_id="licensing_upgrade_licenses_list",
        responses={200: LicenseUpgradeSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        upgrades = selectors_systems.license_upgrades(request.membership)
        return Response(self.get_serializer(upgrades, many=True).data)


class ApplyUpgradeView(LicensingAPIView):
    """Apply upgrade licenses to one license: a system (`system`) or a subscription year."""

    serializer_class = LicenseUpgradeSerializer

    @extend_schema(
        request=ApplyUpgradeSerializer,
        responses={201: LicenseUpgradeSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        data = _input(ApplyUpgradeSerializer, request.data)
        upgrade = services_systems.apply_upgrade_license(
            actor=request.membership,
            product_code=data["product"],
            system_id=data.get("system"),
            year=data.get("year"),
        )
        return Response(self.get_serializer(upgrade).data, status=status.HTTP_201_CREATED)
