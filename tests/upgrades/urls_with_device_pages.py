"""The project's URLs plus stand-ins for the device pages another area builds (device list and
detail), so the device schedule can be tested as the device tab it becomes once they exist."""

from django.http import HttpResponse
from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns
from devices.urls import urlpatterns as device_urlpatterns


def _stand_in(request, **kwargs) -> HttpResponse:
    return HttpResponse("device page stand-in")


device_pages = (
    [
        path("", _stand_in, name="device-list"),
        path("<uuid:device_id>/", _stand_in, name="device-detail"),
        *device_urlpatterns,  # the device pages that exist already (tabs link to them)
    ],
    "devices",
)

# First wins: these take the `devices` namespace before the project's (still empty) one.
urlpatterns = [
    path("o/<uuid:organization_id>/devices/", include(device_pages)),
    *project_urlpatterns,
]
