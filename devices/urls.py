"""Device pages, mounted at /o/<organization_id>/devices/ in the `devices` namespace."""

from django.urls import path

from devices.views import accounts, certificate, control, live, onboarding, recordings, removal
from devices.views import detail as detail_views
from devices.views import list as list_views

app_name = "devices"

urlpatterns: list = [
    path("", list_views.device_list, name="device-list"),
    path("export/", list_views.device_export, name="device-export"),
    path("move/", list_views.device_bulk_move, name="device-bulk-move"),
    path("<uuid:device_id>/", detail_views.device_detail, name="device-detail"),
    path(
        "<uuid:device_id>/accept-certificate/",
        certificate.device_accept_certificate,
        name="device-accept-certificate",
    ),
    # Live view, control and recordings (views/live.py, control.py, recordings.py).
    path("<uuid:device_id>/live/", live.device_live, name="device-live"),
    path("<uuid:device_id>/live/snapshot/", live.device_snapshot, name="device-snapshot"),
    path("<uuid:device_id>/live/mjpeg/", live.device_mjpeg, name="device-mjpeg"),
    path("<uuid:device_id>/restart/", control.device_restart, name="device-restart"),
    path("<uuid:device_id>/ptz/", control.device_ptz, name="device-ptz"),
    path("<uuid:device_id>/recordings/", recordings.device_recordings, name="device-recordings"),
    path(
        "<uuid:device_id>/recordings/<str:recording_id>/play/",
        recordings.device_recording_play,
        name="device-recording-play",
    ),
    # Onboarding: one device, or many from a CSV file (views/onboarding.py).
    path("onboard/", onboarding.device_onboard, name="device-onboard"),
    path("onboard/<uuid:device_id>/done/", onboarding.device_onboarded, name="device-onboarded"),
    path("import/", onboarding.import_create, name="import-create"),
    path("import/<uuid:import_id>/", onboarding.import_detail, name="import-detail"),
    path("import/<uuid:import_id>/onboard/", onboarding.import_onboard, name="import-onboard"),
    path("import/<uuid:import_id>/results.csv", onboarding.import_results, name="import-results"),
    # Device accounts and removal (views/accounts.py, removal.py).
    path("<uuid:device_id>/accounts/", accounts.device_accounts, name="device-accounts"),
    path(
        "<uuid:device_id>/accounts/<str:account_name>/password/",
        accounts.device_account_password,
        name="device-account-password",
    ),
    path(
        "<uuid:device_id>/accounts/<str:account_name>/delete/",
        accounts.device_account_delete,
        name="device-account-delete",
    ),
    path("<uuid:device_id>/remove/", removal.device_remove, name="device-remove"),
]
