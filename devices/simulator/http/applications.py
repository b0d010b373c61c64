"""``applications/list.cgi``: the installed ACAP applications (VAPIX Application API)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from aiohttp import web

from devices.simulator.applications import Application
from devices.simulator.camera import Camera

from .authentication import require

# Attribute order of the recorded answer; absent (None) attributes are left out.
_ATTRIBUTES = (
    ("Name", "name"),
    ("NiceName", "nice_name"),
    ("Vendor", "vendor"),
    ("Version", "version"),
    ("ApplicationID", "application_id"),
    ("License", "license"),
    ("Status", "status"),
    ("ConfigurationPage", "configuration_page"),
    ("VendorHomePage", "vendor_home_page"),
    ("LicenseName", "license_name"),
)


def _element(application: Application) -> str:
    pairs = ((attribute, getattr(application, field_name)) for attribute, field_name in _ATTRIBUTES)
    rendered = " ".join(
        f'{attribute}="{escape(value, {chr(34): "&quot;"})}"'
        for attribute, value in pairs
        if value is not None
    )
    return f" <application {rendered} />\n"


def list_xml(applications: tuple[Application, ...]) -> str:
    """Return the ``<reply result="ok">`` document listing `applications`."""
    return '<reply result="ok">\n' + "".join(map(_element, applications)) + "</reply>\n"


async def handle_list(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``applications/list.cgi`` (admin, as the Application API's other operations)."""
    require(request, camera, "admin")
    return web.Response(text=list_xml(camera.applications), content_type="text/xml")
