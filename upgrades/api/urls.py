"""Upgrades API routes, mounted at /api/v1/organizations/<organization_id>/ (namespace `api`)."""

from django.urls import path

from upgrades.api import views

urlpatterns = [
    path(
        "security-exposure/",
        views.SecurityExposureView.as_view(),
        name="security-exposure",
    ),
    path(
        "folders/<uuid:folder_id>/schedule/",
        views.FolderScheduleView.as_view(),
        name="folder-schedule",
    ),
    path(
        "devices/<uuid:device_id>/schedule/",
        views.DeviceScheduleView.as_view(),
        name="device-schedule",
    ),
]
