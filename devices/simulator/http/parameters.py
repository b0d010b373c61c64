"""``param.cgi``: list and update over the camera's parameter tree (VAPIX.md §8).

The tree and the text protocol live in ``devices.simulator.params``; this module reads the
arguments and applies the reader's or writer's role.
"""

from __future__ import annotations

from aiohttp import web

from devices.simulator import params
from devices.simulator.camera import LEVELS, Camera, User

from .authentication import require
from .bodies import form_args
from .replies import text_response


def _allowed_levels(user: User) -> set[str]:
    """Return every role level up to the user's own (what the user may read)."""
    return set(LEVELS[: LEVELS.index(user.level) + 1])


async def handle_param(request: web.Request, camera: Camera) -> web.StreamResponse:
    """Answer ``param.cgi`` ``list`` and ``update`` (VAPIX.md §8)."""
    user = require(request, camera, "viewer")
    args = await form_args(request, camera)
    action = next((value for key, value in args if key == "action"), None)
    if action == "list":
        group_arg = next((value for key, value in args if key == "group"), "")
        groups = [g.strip() for g in group_arg.split(",") if g.strip()] or None
        text = params.list_params(camera, groups, _allowed_levels(user))
        return web.Response(text=text, content_type="text/plain", charset="iso-8859-1")
    if action == "update":
        if not user.has_level("operator"):
            require(request, camera, "operator")
        updates = [(k, v) for k, v in args if k not in ("action", "usergroup")]
        return text_response(params.update_params(camera, updates, user.level))
    return text_response(f"# Error: Unknown action '{action or ''}'\n")
