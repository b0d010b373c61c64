"""Who is asking: Digest/Basic checks, the 401 challenges and the privilege rule (VAPIX.md §2).

The Digest and Basic arithmetic lives in ``devices.simulator.auth``; this module decides which
schemes a camera offers and accepts, answers with its challenge, counts failures towards the
lockout knob and refuses users with too little privilege.
"""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict

from devices.simulator.auth import basic_challenge, check_basic, check_digest, digest_challenge
from devices.simulator.camera import Camera, User

from .host import FLEET_KEY
from .replies import JSON_TYPE, Reply, error_page


def schemes(request: web.Request, camera: Camera) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (offered, accepted) authentication schemes for this request.

    ``recommended`` offers Digest on HTTP and Basic on HTTPS (VAPIX.md §2.1); over HTTPS it
    still accepts Digest from a client that insists.
    """
    policy = camera.knobs.auth_policy
    if policy == "recommended":
        return (("basic",), ("basic", "digest")) if request.secure else (("digest",), ("digest",))
    if policy == "both":
        return ("digest", "basic"), ("digest", "basic")
    return (policy,), (policy,)


def authenticate(request: web.Request, camera: Camera) -> tuple[User | None, bool]:
    """Return (user, stale) for the request's credentials; user is None if absent or wrong.

    Failed attempts count towards the lockout knob; while locked, every credential fails.
    """
    header = request.headers.get("Authorization")
    if not header:
        return None, False
    fleet = request.app[FLEET_KEY]
    now = fleet.monotonic()
    if "wrong-credentials" in camera.faults or camera.locked_until > now:
        return None, False
    scheme, _, rest = header.partition(" ")
    users = camera.settings.users
    password_of = {name: user.password for name, user in users.items()}
    accepted = schemes(request, camera)[1]
    scheme = scheme.lower()
    name: str | None = None
    stale = False
    if scheme == "digest" and "digest" in accepted:
        outcome = check_digest(
            rest,
            method=request.method,
            raw_uri=request.raw_path,
            realm=camera.identity.realm,
            nonces=fleet.nonces,
            password_of=password_of,
            max_uses=camera.knobs.nonce_max_uses,
        )
        name, stale = outcome.username, outcome.stale
    elif scheme == "basic" and "basic" in accepted:
        name = check_basic(rest, password_of)
    if name is None:
        if not stale and camera.knobs.lockout_after:
            camera.failed_logins += 1
            if camera.failed_logins >= camera.knobs.lockout_after:
                camera.failed_logins = 0
                camera.locked_until = now + camera.knobs.lockout_seconds * fleet.time_scale
                camera.record("locked-out")
        return None, stale
    camera.failed_logins = 0
    return users.get(name), False


def challenge(request: web.Request, camera: Camera, *, stale: bool = False) -> web.Response:
    """Return the 401 a real camera sends: the challenge(s) and Apache's page.

    JSON CGIs answer with ``application/json`` and no body, as recorded on the P3265-V.
    """
    headers: CIMultiDict[str] = CIMultiDict()
    realm = camera.identity.realm
    offered = schemes(request, camera)[0]
    if "digest" in offered:
        nonce = request.app[FLEET_KEY].nonces.make(realm)
        headers.add(
            "WWW-Authenticate",
            digest_challenge(realm, nonce, qop=camera.knobs.digest_qop, stale=stale),
        )
    if "basic" in offered:
        headers.add("WWW-Authenticate", basic_challenge(realm))
    if request.get("json_cgi"):
        return web.Response(
            status=401, body=b"", content_type=JSON_TYPE, charset="utf-8", headers=headers
        )
    return error_page(401, headers)


def require(request: web.Request, camera: Camera, level: str, *, ptz: bool = False) -> User:
    """Return the authenticated user holding `level` (and ptz); otherwise raise Reply.

    Missing or wrong credentials get a 401 challenge. A valid but weaker user gets the
    camera's privilege answer: 401 (older firmware, the default) or 403 (knob).
    """
    user, stale = authenticate(request, camera)
    if user is None:
        raise Reply(challenge(request, camera, stale=stale))
    if not user.has_level(level) or (ptz and "ptz" not in user.groups):
        if camera.knobs.privilege_status == 403:
            raise Reply(error_page(403))
        raise Reply(challenge(request, camera))
    return user
