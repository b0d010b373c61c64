"""Routes camera-station servers call, mounted at /api/v1/servers/ in the `api` namespace."""

from django.urls import path

from devices.servers import api

urlpatterns = [
    path("register", api.RegisterView.as_view(), name="server-register"),
    path("check-in", api.CheckInView.as_view(), name="server-check-in"),
]
