"""Device API routes, mounted at /api/v1/organizations/<organization_id>/devices/."""

from django.urls import path

from devices.api.certificate import DeviceAcceptCertificateView

urlpatterns: list = [
    path(
        "<uuid:device_id>/accept-certificate/",
        DeviceAcceptCertificateView.as_view(),
        name="device-accept-certificate",
    ),
]
