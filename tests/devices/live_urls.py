"""The project's URLs, plus stand-ins for device pages another area has not merged yet.

The device page base links to `devices:device-list` and `devices:device-detail` (the device
list area builds them). Until they exist, these tests render the live, control and recordings
pages against this URLconf, where a stand-in answers for each missing name; once the real
routes are merged, nothing is added and this is the project's URLconf as it is.
"""

from django.http import HttpResponse
from django.urls import URLResolver, include, path

from config import urls as project
from devices import urls as device_urls


def _stand_in(request, *args, **kwargs):
    return HttpResponse("stand-in for a device page of another area")


_names = {pattern.name for pattern in device_urls.urlpatterns}
_stand_ins = [
    path(route, _stand_in, name=name)
    for route, name in (("", "device-list"), ("<uuid:device_id>/", "device-detail"))
    if name not in _names
]


def _with_stand_ins(pattern):
    if isinstance(pattern, URLResolver) and pattern.namespace == "devices":
        return path(
            str(pattern.pattern),
            include((list(device_urls.urlpatterns) + _stand_ins, "devices")),
        )
    return pattern


urlpatterns = [_with_stand_ins(pattern) for pattern in project.urlpatterns]
handler400 = project.handler400
handler403 = project.handler403
handler404 = project.handler404
handler500 = project.handler500
