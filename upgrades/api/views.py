"""Upgrades API: the software schedule of a folder or a device (GET, PUT).

PUT with mode "inherit" removes the target's own schedule; every other mode sets it. Reading
needs the folder or device to be visible (viewers included); writing is admin+.
"""

from typing import Any
from uuid import UUID

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from devices.models import Device
from devices.selectors import get_visible_device
from organizations.api.base import OrganizationAPIView
from organizations.api.views import ERRORS
from organizations.models import Folder, Membership
from organizations.roles import Action
from organizations.selectors import get_visible_folder
from upgrades import selectors, services
from upgrades.api.serializers import (
    ScheduleInputSerializer,
    ScheduleStateSerializer,
    SecurityExposureSerializer,
)


def _state(membership: Membership, own: Any, effective: selectors.EffectiveSchedule) -> dict:
    upcoming = selectors.upcoming_window(effective, timezone.now())
    source = effective.source
    # A folder above the member's grants is named by its kind only.
    shown = source if selectors.source_visible_to(membership, effective) else None
    return {
        "schedule": services.describe(own),
        "effective": {
            **services.describe(effective.schedule),
            "mode": effective.mode,
            "source_type": type(source).__name__.lower() if source is not None else None,
            "source_id": str(shown.pk) if shown is not None else None,
            "time_zone": effective.time_zone,
            "next_window": {"start": upcoming[0], "end": upcoming[1]} if upcoming else None,
        },
    }


def _spec(data: dict) -> services.ScheduleSpec:
    return services.ScheduleSpec(
        mode=data["mode"],
        weekdays=frozenset(data.get("weekdays") or ()),
        start_time=data.get("start_time"),
        duration_minutes=data.get("duration_minutes"),
        blackout_dates=tuple(data.get("blackout_dates") or ()),
    )


class FolderScheduleView(OrganizationAPIView):
    """A folder's software schedule, inherited below it by whatever sets none."""

    required_actions = {"GET": Action.DEVICE_VIEW, "PUT": Action.UPGRADE_MANAGE}
    object_url_kwarg, object_name = "folder_id", "folder"
    serializer_class = ScheduleStateSerializer

    def get_object(self) -> Any:
        """The object the base loaded from the URL (DRF's OPTIONS asks for it for PUT)."""
        return self.kwargs[self.object_name]

    def load_object(self, membership: Membership, object_id: UUID) -> Folder:
        return get_visible_folder(membership, object_id)

    def _answer(self, folder: Folder) -> Response:
        own = selectors.own_schedule(folder=folder)
        effective = selectors.effective_folder_schedule(folder)
        return Response(
            ScheduleStateSerializer(_state(self.request.membership, own, effective)).data
        )

    @extend_schema(responses={200: ScheduleStateSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID, folder: Folder) -> Response:
        return self._answer(folder)

    @extend_schema(
        request=ScheduleInputSerializer, responses={200: ScheduleStateSerializer, **ERRORS}
    )
    def put(self, request: Request, organization_id: UUID, folder: Folder) -> Response:
        serializer = ScheduleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.apply_schedule(
            actor=request.membership, spec=_spec(serializer.validated_data), folder_ids=[folder.pk]
        )
        return self._answer(folder)


class DeviceScheduleView(OrganizationAPIView):
    """A device's software schedule: its own, else its folder's."""

    required_actions = {"GET": Action.DEVICE_VIEW, "PUT": Action.UPGRADE_MANAGE}
    object_url_kwarg, object_name = "device_id", "device"
    serializer_class = ScheduleStateSerializer

    def get_object(self) -> Any:
        """The object the base loaded from the URL (DRF's OPTIONS asks for it for PUT)."""
        return self.kwargs[self.object_name]

    def load_object(self, membership: Membership, object_id: UUID) -> Device:
        return get_visible_device(membership, object_id)

    def _answer(self, device: Device) -> Response:
        own = selectors.own_schedule(device=device)
        effective = selectors.effective_device_schedules([device])[device.pk]
        return Response(
            ScheduleStateSerializer(_state(self.request.membership, own, effective)).data
        )

    @extend_schema(responses={200: ScheduleStateSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID, device: Device) -> Response:
        return self._answer(device)

    @extend_schema(
        request=ScheduleInputSerializer, responses={200: ScheduleStateSerializer, **ERRORS}
    )
    def put(self, request: Request, organization_id: UUID, device: Device) -> Response:
        serializer = ScheduleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.apply_schedule(
            actor=request.membership, spec=_spec(serializer.validated_data), device_ids=[device.pk]
        )
        return self._answer(device)


class SecurityExposureView(OrganizationAPIView):
    """Each CVE of the catalog with the caller's visible devices that still run an affected
    version, and the count of exposed devices."""

    required_actions = {"GET": Action.DEVICE_VIEW}
    serializer_class = SecurityExposureSerializer

    @extend_schema(responses={200: SecurityExposureSerializer, **ERRORS})
    def get(self, request: Request, organization_id: UUID) -> Response:
        rows = selectors.security_exposure(request.membership)
        body = {
            "exposed_devices": selectors.exposed_device_count(request.membership),
            "vulnerabilities": [
                {
                    "cve_id": row.advisory.cve_id,
                    "severity": row.advisory.severity,
                    "summary": row.advisory.summary,
                    "exposed_count": row.count,
                    "devices": [
                        {
                            "id": device.pk,
                            "name": device.name,
                            "product_number": device.product_number,
                            "firmware_version": device.firmware_version,
                            "fixed_in": release.version,
                        }
                        for device, release in row.devices
                    ],
                }
                for row in rows
            ],
        }
        return Response(SecurityExposureSerializer(body).data)
