"""Upgrade pages, mounted at /o/<organization_id>/upgrades/ in the `upgrades` namespace."""

from django.urls import path

from upgrades import views

app_name = "upgrades"

urlpatterns = [
    path("security/", views.security_exposure, name="security-exposure"),
    path("schedules/", views.schedule_selection, name="schedule-selection"),
    path("folders/<uuid:folder_id>/schedule/", views.folder_schedule, name="folder-schedule"),
    path("devices/<uuid:device_id>/schedule/", views.device_schedule, name="device-schedule"),
]
