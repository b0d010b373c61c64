"""The envelope every JSON ("AJR") CGI shares: request parsing and answer framing (VAPIX.md §1).

Each CGI declares an ``AjrApi``: how it frames answers and which codes it uses for the generic
errors. Handlers call ``read_ajr`` and answer with ``AjrCall.data`` or ``AjrCall.error``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devices.simulator.camera import Camera

from .bodies import read_small_body
from .replies import JSON_TYPE, Reply


@dataclass(frozen=True)
class AjrApi:
    """How one JSON CGI frames answers and which codes it uses for generic errors."""

    name: str
    echo_method: bool
    method_first: bool  # apidiscovery puts "method" before "apiVersion"
    version_in_supported: bool  # getSupportedVersions answer carries apiVersion
    reject_version_in_supported: bool  # 4002 when a client sends apiVersion there
    invalid_json: tuple[int, str]
    http_method: tuple[int, str]
    bad_version: tuple[int, str]
    unknown_method: tuple[int, str]
    missing_param: tuple[int, str]


@dataclass
class AjrCall:
    """A parsed JSON request and how to answer it."""

    api: AjrApi
    camera: Camera
    method: str | None
    params: dict[str, Any]
    context: object

    def _frame(self, *, success: bool = False) -> dict[str, Any]:
        frame: dict[str, Any] = {}
        version = getattr(self.camera.profile, self.api.name)
        show_method = self.method is not None and (
            self.api.echo_method or self.method == "getSupportedVersions"
        )
        if self.api.method_first and show_method:
            frame["method"] = self.method
        # Recorded: apidiscovery/basicdeviceinfo answer getSupportedVersions without apiVersion.
        if not (success and self.method == "getSupportedVersions") or self.api.version_in_supported:
            frame["apiVersion"] = version
        if self.context is not None:
            frame["context"] = self.context
        if show_method and not self.api.method_first:
            frame["method"] = self.method
        return frame

    def data(self, data: dict[str, Any]) -> web.Response:
        """Return a success envelope."""
        return _json({**self._frame(success=True), "data": data})

    def error(self, code: int, message: str) -> web.Response:
        """Return an error envelope (HTTP 200, VAPIX.md §1.2)."""
        return _json({**self._frame(), "error": {"code": code, "message": message}})


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(payload), content_type=JSON_TYPE)


def parse_envelope(api: AjrApi, camera: Camera, raw: bytes) -> AjrCall:
    """Parse an AJR request body; raise Reply with the CGI's error envelope when invalid.

    The body is read as JSON whatever its Content-Type says (``application/json``,
    ``text/plain``, curl's form type or none), as the CGI reads its input; the document itself
    is checked as strictly as the device does.
    """
    call = AjrCall(api, camera, None, {}, None)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Reply(call.error(*api.invalid_json)) from None
    if not isinstance(payload, dict):
        raise Reply(call.error(*api.invalid_json))
    call.context = payload.get("context")
    method = payload.get("method")
    if not isinstance(method, str):
        raise Reply(call.error(*api.missing_param))
    call.method = method
    params_value = payload.get("params", {})
    if not isinstance(params_value, dict):
        raise Reply(call.error(*api.missing_param))
    call.params = params_value
    version = payload.get("apiVersion")
    if method == "getSupportedVersions":
        if version is not None and api.reject_version_in_supported:
            raise Reply(
                call.error(
                    api.missing_param[0],
                    "'apiVersion' must not be provided for method 'getSupportedVersions'",
                )
            )
        return call
    if not isinstance(version, str):
        raise Reply(call.error(*api.missing_param))
    major, _, minor = version.partition(".")
    if major != "1" or (minor and not minor.isdigit()):
        raise Reply(call.error(*api.bad_version))
    return call


async def read_ajr(request: web.Request, camera: Camera, api: AjrApi) -> AjrCall:
    """Enforce POST, read the body and parse the envelope (VAPIX.md §14 item 8)."""
    request["json_cgi"] = True
    if request.method != "POST":
        raise Reply(AjrCall(api, camera, None, {}, None).error(*api.http_method))
    body = await read_small_body(request, camera)
    return parse_envelope(api, camera, body)
