"""Device pages, mounted at /o/<organization_id>/devices/ in the `devices` namespace."""

from django.urls import path  # noqa: F401 - each area adds its routes below

app_name = "devices"

urlpatterns: list = []
