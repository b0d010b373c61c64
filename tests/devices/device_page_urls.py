"""The project's URLs, plus stand-ins for device page names another branch adds (devlist).

Every device page extends `devices/device_base.html`, which links the device list and the
detail page. Until those routes exist, tests of device pages use this urlconf
(`@pytest.mark.urls("tests.devices.device_page_urls")`); once they do, it adds nothing.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from config import urls as project_urls
from devices import urls as device_urls

_names = {pattern.name for pattern in device_urls.urlpatterns}


def _stand_in(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("stand-in device page")


_stand_ins = [
    route
    for name, route in [
        ("device-list", path("", _stand_in, name="device-list")),
        ("device-detail", path("<uuid:device_id>/", _stand_in, name="device-detail")),
    ]
    if name not in _names
]

# First in the list wins the "devices" namespace when reversing.
urlpatterns = [
    path(
        "o/<uuid:organization_id>/devices/",
        include(([*device_urls.urlpatterns, *_stand_ins], "devices")),
    ),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
