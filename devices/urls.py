"""Device pages, mounted at /o/<organization_id>/devices/ in the `devices` namespace."""

from django.urls import path

from devices.views import certificate

app_name = "devices"

urlpatterns: list = [
    path(
        "<uuid:device_id>/accept-certificate/",
        certificate.device_accept_certificate,
        name="device-accept-certificate",
    ),
]
