"""Device API routes, mounted at /api/v1/organizations/<organization_id>/devices/."""

from django.urls import path

from devices.api import accounts, media, views
from devices.api.certificate import DeviceAcceptCertificateView

urlpatterns: list = [
    # The collection, one device, and the CSV import (api/views.py).
    path("", views.DeviceListView.as_view(), name="device-list"),
    path("<uuid:device_id>/", views.DeviceDetailView.as_view(), name="device-detail"),
    path("import/", views.DeviceImportCreateView.as_view(), name="device-import"),
    path(
        "import/<uuid:import_id>/",
        views.DeviceImportDetailView.as_view(),
        name="device-import-detail",
    ),
    path(
        "import/<uuid:import_id>/onboard/",
        views.DeviceImportOnboardView.as_view(),
        name="device-import-onboard",
    ),
    path(
        "<uuid:device_id>/accept-certificate/",
        DeviceAcceptCertificateView.as_view(),
        name="device-accept-certificate",
    ),
    # Pictures and controls (api/media.py).
    path("<uuid:device_id>/snapshot/", media.DeviceSnapshotView.as_view(), name="device-snapshot"),
    path("<uuid:device_id>/restart/", media.DeviceRestartView.as_view(), name="device-restart"),
    path(
        "<uuid:device_id>/ptz/presets/",
        media.DevicePtzPresetsView.as_view(),
        name="device-ptz-presets",
    ),
    path("<uuid:device_id>/ptz/goto/", media.DevicePtzGotoView.as_view(), name="device-ptz-goto"),
    path(
        "<uuid:device_id>/recordings/",
        media.DeviceRecordingsView.as_view(),
        name="device-recordings",
    ),
    # A device's own local accounts (api/accounts.py).
    path(
        "<uuid:device_id>/accounts/",
        accounts.DeviceAccountListView.as_view(),
        name="device-account-list",
    ),
    path(
        "<uuid:device_id>/accounts/<str:account_name>/",
        accounts.DeviceAccountDetailView.as_view(),
        name="device-account-detail",
    ),
]
