"""Device API routes, mounted at /api/v1/organizations/<organization_id>/devices/."""

from django.urls import path  # noqa: F401 - each area adds its routes below

urlpatterns: list = []
