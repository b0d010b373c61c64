"""What every handler shares: the control-flow exceptions, Apache's pages and headers.

Responses imitate an Axis camera's Apache: the Server and hardening headers of the recorded
P3265-V, Apache's HTML error pages, and the one-line HTML pages of pwdgrp.cgi and the legacy
CGIs.
"""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from devices.simulator.camera import Camera
from devices.simulator.catalog import parse_version

JSON_TYPE = "application/json"


class Dropped(Exception):
    """Raised by helpers when the camera must kill the connection without any answer."""


class Reply(Exception):
    """Raised by helpers to answer the request immediately with `response`."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


_REASONS = {
    400: ("Bad Request", "Your browser sent a request that this server could not understand."),
    401: (
        "Unauthorized",
        "This server could not verify that you\nare authorized to access the document\n"
        "requested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\n"
        "browser doesn't understand how to supply\nthe credentials required.",
    ),
    403: ("Forbidden", "You don't have permission to access this resource."),
    404: ("Not Found", "The requested URL was not found on this server."),
    405: ("Method Not Allowed", "The requested method is not allowed for this URL."),
    500: (
        "Internal Server Error",
        "The server encountered an internal error or\nmisconfiguration and was unable to "
        "complete\nyour request.",
    ),
    502: ("Bad Gateway", "The proxy server received an invalid\nresponse from an upstream server."),
    503: (
        "Service Unavailable",
        "The server is temporarily unable to service your\nrequest due to maintenance downtime "
        "or capacity\nproblems. Please try again later.",
    ),
}


def error_page(status: int, headers: CIMultiDict[str] | None = None) -> web.Response:
    """Return Apache's HTML error page for `status`."""
    title, text = _REASONS.get(status, ("Error", "An error occurred."))
    body = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
        f"<title>{status} {title}</title>\n</head><body>\n<h1>{title}</h1>\n<p>{text}</p>\n"
        "</body></html>\n"
    )
    return web.Response(
        status=status, text=body, content_type="text/html", charset="iso-8859-1", headers=headers
    )


def text_response(text: str, *, status: int = 200) -> web.Response:
    """Return a ``text/plain`` answer as param.cgi and friends send it."""
    return web.Response(status=status, text=text, content_type="text/plain")


def html_body_page(title: str, message: str, *, status: int = 200) -> web.Response:
    """Return the one-line HTML page pwdgrp.cgi and the legacy CGIs answer (VAPIX.md §9.1)."""
    body = (
        f"<html><head><title>{title}</title></head><body bgcolor=#ffffff>{message}\n"
        "</body>\n\n</html>\n"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def not_found_unless(condition: bool) -> None:
    """Answer Apache's 404 page when the CGI does not exist on this camera."""
    if not condition:
        raise Reply(error_page(404))


async def set_device_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Give every answer the Server and hardening headers of the recorded device."""
    camera: Camera | None = request.get("camera")
    if camera is not None and parse_version(camera.active_version) < (6, 0, 0, 0):
        response.headers["Server"] = "Boa/0.94.14rc21"
        return
    response.headers["Server"] = "Apache/2.4.68 (Unix) OpenSSL/3.5.7"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-XSS-Protection", "1; mode=block")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
