"""Licensing pages, mounted at /o/<organization_id>/licensing/ in the `licensing` namespace."""

from django.urls import path

from licensing import views_systems

app_name = "licensing"

urlpatterns = [
    # System setup (licensing/views_systems.py).
    path("systems/", views_systems.system_list, name="system-list"),
    path("systems/upload/", views_systems.system_file_upload, name="system-file-upload"),
    path("systems/<uuid:system_id>/", views_systems.system_detail, name="system-detail"),
    path(
        "systems/<uuid:system_id>/allocate/",
        views_systems.system_allocate,
        name="system-allocate",
    ),
    path(
        "systems/<uuid:system_id>/license-file/",
        views_systems.system_license_file,
        name="system-license-file",
    ),
    path("upgrades/", views_systems.upgrade_list, name="upgrade-list"),
]
