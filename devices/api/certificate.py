"""Accept a device's changed certificate through the API (admin+), as on the device page."""

from uuid import UUID

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from devices import selectors, services
from devices.models import Device
from organizations.api.base import OrganizationAPIView
from organizations.models import Membership
from organizations.roles import Action


class AcceptCertificateSerializer(serializers.Serializer):
    """The fingerprint the administrator checked: the one the device presents now."""

    fingerprint = serializers.CharField(
        max_length=200,
        help_text=_("SHA-256 fingerprint of the certificate the device presents (64 hex digits)."),
    )


class DeviceCertificateSerializer(serializers.ModelSerializer):
    """A device's status and certificates after the decision."""

    class Meta:
        model = Device
        fields = ["id", "status", "certificate_fingerprint", "presented_fingerprint"]
        read_only_fields = fields


class DeviceAcceptCertificateView(OrganizationAPIView):
    """Pin the certificate a device now presents, so the service polls and talks to it again."""

    serializer_class = DeviceCertificateSerializer
    required_actions = {"POST": Action.DEVICE_MANAGE}
    object_url_kwarg, object_name = "device_id", "device"

    def load_object(self, membership: Membership, object_id: UUID) -> Device:
        return selectors.get_visible_device(membership, object_id)

    @extend_schema(
        request=AcceptCertificateSerializer,
        responses={
            200: DeviceCertificateSerializer,
            400: OpenApiResponse(description="Not a SHA-256 fingerprint."),
            403: OpenApiResponse(description="Visible but not allowed for this role."),
            404: OpenApiResponse(description="Not found, or outside the caller's reach."),
            409: OpenApiResponse(description="The device no longer presents this certificate."),
        },
    )
    def post(self, request: Request, organization_id: UUID, device: Device) -> Response:
        data = AcceptCertificateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device = services.accept_certificate(
            actor=request.membership,
            device_id=device.pk,
            fingerprint=data.validated_data["fingerprint"],
        )
        return Response(self.get_serializer(device).data)
