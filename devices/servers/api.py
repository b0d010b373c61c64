"""The API camera-station servers call (not the members' API): register, then check in.

    POST /api/v1/servers/register   {"registration_token", "name", "software_version"}
    POST /api/v1/servers/check-in   Authorization: Server <server token>

A server token authenticates here and nowhere else: these views read it themselves, and no
other view knows the `Server` keyword (nor the token as an API token). Refusals answer the API's
error body with a stable code the server can log (token_invalid, token_revoked,
server_removed, registration_token_expired, …); a check-in too soon after the last one answers
429 with Retry-After.
"""

from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import StrictCharField, StrictUUIDField
from devices.servers import services
from devices.servers.models import CameraStationServer, ServerUpgrade

AUTHORIZATION_KEYWORD = "Server"


class RegisterSerializer(serializers.Serializer):
    registration_token = StrictCharField(max_length=200)
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    software_version = StrictCharField(max_length=32, required=False, allow_blank=True, default="")


class RegisteredSerializer(serializers.Serializer):
    server_id = serializers.UUIDField()
    server_token = serializers.CharField(
        help_text="Shown once: keep it; send it on every check-in."
    )
    next_check_in_seconds = serializers.IntegerField()


class CamerasSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    serials = serializers.ListField(
        child=StrictCharField(max_length=64),
        max_length=services.MAX_CAMERA_SERIALS,
        required=False,
        default=list,
    )


class StorageSerializer(serializers.Serializer):
    used_bytes = serializers.IntegerField(min_value=0, max_value=2**62)
    total_bytes = serializers.IntegerField(min_value=0, max_value=2**62)

    def validate(self, attrs: dict) -> dict:
        if attrs["total_bytes"] and attrs["used_bytes"] > attrs["total_bytes"]:
            raise serializers.ValidationError(
                {"used_bytes": [_("Used storage cannot exceed the total.")]}
            )
        return attrs


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[
            CameraStationServer.Health.OK,
            CameraStationServer.Health.WARNING,
            CameraStationServer.Health.CRITICAL,
        ]
    )
    messages = serializers.ListField(
        child=StrictCharField(max_length=200),
        max_length=services.MAX_HEALTH_MESSAGES,
        required=False,
        default=list,
    )


class UpgradeReportSerializer(serializers.Serializer):
    id = StrictUUIDField()
    state = serializers.ChoiceField(
        choices=[ServerUpgrade.State.INSTALLING, ServerUpgrade.State.FAILED]
    )
    reason = StrictCharField(
        max_length=services.REASON_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class CheckInSerializer(serializers.Serializer):
    software_version = StrictCharField(max_length=32)
    status = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    cameras = CamerasSerializer(required=False)
    storage = StorageSerializer(required=False)
    health = HealthSerializer(required=False)
    sent_at = serializers.DateTimeField(
        required=False, help_text="The server's clock when it sent the check-in (for skew)."
    )
    upgrade = UpgradeReportSerializer(required=False, allow_null=True)

    def to_report(self) -> services.CheckInReport:
        data = self.validated_data
        cameras = data.get("cameras") or {}
        storage = data.get("storage") or {}
        health = data.get("health") or {}
        upgrade = data.get("upgrade")
        return services.CheckInReport(
            software_version=data["software_version"],
            reported_status=data["status"],
            health=health.get("status", CameraStationServer.Health.OK),
            health_messages=tuple(health.get("messages", ())),
            camera_count=cameras.get("count"),
            camera_serials=tuple(cameras.get("serials", ())),
            storage_used_bytes=storage.get("used_bytes", 0),
            storage_total_bytes=storage.get("total_bytes", 0),
            sent_at=data.get("sent_at"),
            upgrade=services.UpgradeReport(
                upgrade_id=upgrade["id"], state=upgrade["state"], reason=upgrade["reason"]
            )
            if upgrade
            else None,
        )


class UpgradeInstructionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.CharField()
    state = serializers.CharField()


class CheckInAnswerSerializer(serializers.Serializer):
    server_id = serializers.UUIDField()
    server_time = serializers.DateTimeField()
    next_check_in_seconds = serializers.IntegerField()
    upgrade = UpgradeInstructionSerializer(allow_null=True)


class ServerAPIView(APIView):
    """A view servers call: no session, no member token, no CSRF; JSON answers only."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, services.TooSoon):
            response["Retry-After"] = str(exc.retry_after)
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            response["WWW-Authenticate"] = AUTHORIZATION_KEYWORD
        return response


class RegisterView(ServerAPIView):
    """Exchange a one-time registration token for the server's own token."""

    @extend_schema(
        operation_id="servers_register",
        tags=["servers"],
        auth=[],
        request=RegisterSerializer,
        responses={
            201: RegisteredSerializer,
            400: OpenApiResponse(description="The body is not valid."),
            401: OpenApiResponse(
                description="The registration token is invalid, used, revoked or expired."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = RegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        server, raw_token = services.register_server(
            registration_token=body.validated_data["registration_token"],
            name=body.validated_data["name"],
            software_version=body.validated_data["software_version"],
        )
        answer = {
            "server_id": server.pk,
            "server_token": raw_token,
            "next_check_in_seconds": settings.SERVER_CHECK_IN_INTERVAL,
        }
        return Response(RegisteredSerializer(answer).data, status=status.HTTP_201_CREATED)


def server_token_from(request: Request) -> str:
    """Return the raw token of `Authorization: Server <token>`, or raise Unauthorized."""
    header = request.headers.get("Authorization", "").split()
    if len(header) != 2 or header[0].lower() != AUTHORIZATION_KEYWORD.lower():
        raise services.Unauthorized(
            "token_missing",
            _("Send the server token as the header “Authorization: Server <token>”."),
        )
    return header[1]


class CheckInView(ServerAPIView):
    """Report the server's state; the answer says when to come back and what to upgrade to."""

    # Servers are throttled per server by the check-in itself (SERVER_CHECK_IN_MIN_INTERVAL).
    throttle_classes: list = []

    @extend_schema(
        operation_id="servers_check_in",
        tags=["servers"],
        auth=[],
        request=CheckInSerializer,
        responses={
            200: CheckInAnswerSerializer,
            400: OpenApiResponse(description="The body is not valid."),
            401: OpenApiResponse(
                description="The server token is missing, invalid or revoked, or the server "
                "was removed."
            ),
            429: OpenApiResponse(description="Too soon after the last check-in: see Retry-After."),
        },
    )
    def post(self, request: Request) -> Response:
        raw_token = server_token_from(request)
        body = CheckInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answer = services.check_in(raw_token=raw_token, report=body.to_report())
        upgrade = answer.upgrade
        data: dict[str, Any] = {
            "server_id": answer.server.pk,
            "server_time": timezone.now(),
            "next_check_in_seconds": answer.next_check_in_seconds,
            "upgrade": {"id": upgrade.pk, "version": upgrade.target_version, "state": upgrade.state}
            if upgrade
            else None,
        }
        return Response(CheckInAnswerSerializer(data).data)
