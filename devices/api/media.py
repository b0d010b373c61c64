"""API of a device's pictures and controls: snapshot, restart, PTZ presets, recordings list.

Same rules as the pages: the device is loaded through the visibility selector (404 outside
reach), the method's action is checked on its folder (403), device failures answer 502 with the
stable error body (`code`: unreachable, timeout, auth_failed, certificate_untrusted,
device_refused, …). Live MJPEG and playback are for browsers (the pages); scripts take
snapshots.
"""

from datetime import datetime
from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import StrictCharField
from devices import control, selectors
from devices.models import Device
from organizations.api.base import OrganizationAPIView
from organizations.models import Membership
from organizations.roles import Action

ERRORS = {
    400: OpenApiResponse(description="Invalid input: {error: {code, message, fields}}"),
    403: OpenApiResponse(description="Visible but not allowed for this role."),
    404: OpenApiResponse(description="Not found, or outside the caller's reach."),
    502: OpenApiResponse(
        description="The device failed or refused: {error: {code, message, fields}} with code "
        "unreachable, timeout, auth_failed, certificate_untrusted or device_refused."
    ),
}


class PtzPresetSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    is_home = serializers.BooleanField()


class PtzGotoSerializer(serializers.Serializer):
    preset = StrictCharField(max_length=control.PRESET_NAME_MAX_LENGTH)


class RecordingSerializer(serializers.Serializer):
    id = serializers.CharField(source="recording_id")
    start_time = serializers.DateTimeField(allow_null=True)
    stop_time = serializers.DateTimeField(allow_null=True)
    type = serializers.CharField(source="recording_type")
    resolution = serializers.CharField()


class RecordingRangeSerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False)
    stop = serializers.DateTimeField(required=False)

    def validate(self, data: dict) -> dict:
        if data.get("start") and data.get("stop") and data["stop"] < data["start"]:
            raise serializers.ValidationError({"stop": ["The end comes before the start."]})
        return data


class DeviceMediaView(OrganizationAPIView):
    """Load the device of the URL through the visibility selector (404 outside reach)."""

    object_url_kwarg, object_name = "device_id", "device"

    def load_object(self, membership: Membership, object_id: UUID) -> Device:
        return selectors.get_visible_device(membership, object_id)


class PictureNegotiation(DefaultContentNegotiation):
    """Accept `Accept: image/jpeg` for a picture: the JPEG is written by the view itself, and
    errors still answer in JSON (DRF would refuse the request with 406 before the view ran)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class DeviceSnapshotView(DeviceMediaView):
    """One JPEG from the device, taken now (viewer+ in the device's folder)."""

    required_actions = {"GET": Action.DEVICE_VIEW}
    content_negotiation_class = PictureNegotiation

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, **ERRORS})
    def get(self, request: Request, organization_id: UUID, device: Device) -> HttpResponse:
        with control.connected(device) as client:
            jpeg = client.snapshot()
        return HttpResponse(jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


class DeviceRestartView(DeviceMediaView):
    """Restart the device (operator+ in its folder); audited as device.restart."""

    required_actions = {"POST": Action.DEVICE_CONTROL}

    @extend_schema(request=None, responses={202: None, **ERRORS})
    def post(self, request: Request, organization_id: UUID, device: Device) -> Response:
        control.restart_device(actor=request.membership, device=device)
        return Response(status=status.HTTP_202_ACCEPTED)


class DevicePtzPresetsView(DeviceMediaView):
    """The device's PTZ presets (operator+; 400 `no_ptz` for a device without PTZ)."""

    required_actions = {"GET": Action.DEVICE_CONTROL}
    pagination_class = None

    @extend_schema(responses={200: PtzPresetSerializer(many=True), **ERRORS})
    def get(self, request: Request, organization_id: UUID, device: Device) -> Response:
        presets = control.ptz_presets(actor=request.membership, device=device)
        return Response(PtzPresetSerializer(presets, many=True).data)


class DevicePtzGotoView(DeviceMediaView):
    """Move the camera to a preset by name (operator+); audited as device.ptz_goto."""

    required_actions = {"POST": Action.DEVICE_CONTROL}

    @extend_schema(request=PtzGotoSerializer, responses={202: None, **ERRORS})
    def post(self, request: Request, organization_id: UUID, device: Device) -> Response:
        serializer = PtzGotoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        control.goto_ptz_preset(
            actor=request.membership, device=device, preset=serializer.validated_data["preset"]
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class DeviceRecordingsView(DeviceMediaView):
    """The device's edge recordings overlapping ?start=…&stop=… (ISO 8601), newest first."""

    required_actions = {"GET": Action.RECORDING_PLAY}
    serializer_class = RecordingSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=False),
            OpenApiParameter("stop", OpenApiTypes.DATETIME, required=False),
        ],
        responses={200: RecordingSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID, device: Device) -> Response:
        window = RecordingRangeSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        start: datetime | None = window.validated_data.get("start")
        stop: datetime | None = window.validated_data.get("stop")
        recordings = control.list_recordings(
            actor=request.membership, device=device, start=start, stop=stop
        )
        page = self.paginate_queryset(recordings)
        return self.get_paginated_response(RecordingSerializer(page, many=True).data)
