"""Cross-tenant probe: every URL pattern and API route, filled with another organization's ids.

The routes come from the URL resolver, so a route added later is probed without touching this
file; the ids come from what each app declares in tests/<app>/declarations.py (see
tests/support/registry.py), and a route whose parameter nobody declared fails the probe with a
message saying what to declare. A route with path parameters must answer 404 to a member of
another organization (and to an API token of another organization), 404 to a viewer for
folders outside their grants, and send signed-out visitors to sign-in (401 on the API). A
route without parameters must not show anything of the other organization.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from organizations import services
from organizations.roles import Role
from tests.accounts.factories import UserFactory
from tests.organizations.factories import MembershipFactory
from tests.support import registry
from tests.support.cast import build_tenant

pytestmark = pytest.mark.django_db

# Route prefixes left out of the probe, each with its reason.
SKIPPED_PREFIXES = {
    "admin/": "staff-only Django admin behind OTPAdminSite; no tenant URL scheme",
    "api/v1/schema/": "the public OpenAPI schema, no tenant data",
    "api/v1/docs/": "the public API docs page, no tenant data",
    "accounts/sign-in/": "public sign-in pages",
    "accounts/sign-up/": "public sign-up page",
    "accounts/verify/": "public e-mail verification (signed per-person token, no tenant data)",
    "accounts/password/reset/": "public password reset (signed per-person token, no tenant data)",
    "invitations/": "public invitation link, identified by its secret; covered in test_views",
}

# Single routes left out, each with its reason.
SKIPPED_ROUTES = {
    "accounts/security/<str:kind>/<int:device_id>/remove/": (
        "the person's own second factor, looked up with the session's user; any other id shows "
        "the password form and is refused on submit (tests/accounts) — no tenant data"
    ),
}

_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str
    name: str

    @property
    def parameters(self) -> list[tuple[str, str]]:
        return [
            (match["converter"] or "str", match["name"])
            for match in _PARAMETER.finditer(self.route)
        ]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    def url(self, values: dict) -> str:
        return "/" + _PARAMETER.sub(lambda match: str(values[match["name"]]), self.route)


def _walk(patterns, prefix: str = "", namespace: str = "") -> list[Route]:
    routes: list[Route] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner_namespace = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if not isinstance(pattern.pattern, RoutePattern):
                routes.append(Route(prefix + str(pattern.pattern), "<regex resolver>"))
                continue
            routes.extend(
                _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner_namespace)
            )
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else "<unnamed>"
            if isinstance(pattern.pattern, RoutePattern):
                routes.append(Route(prefix + str(pattern.pattern), name))
            else:
                routes.append(Route(prefix + str(pattern.pattern), name + " <regex>"))
    return routes


def _probed_routes() -> list[Route]:
    return [
        route
        for route in _walk(get_resolver().url_patterns)
        if not route.route.startswith(tuple(SKIPPED_PREFIXES)) and route.route not in SKIPPED_ROUTES
    ]


ROUTES = _probed_routes()
TENANT_ROUTES = [route for route in ROUTES if route.parameters]
PLAIN_ROUTES = [route for route in ROUTES if not route.parameters]
ROUTE_IDS = registry.route_ids()
# Routes of objects filed in folders: a viewer outside their grants must get 404 there.
FOLDER_ROUTES = [
    route
    for route in TENANT_ROUTES
    if any(name in ROUTE_IDS and ROUTE_IDS[name].in_folder for _converter, name in route.parameters)
]


def _undeclared(route: Route) -> list[str]:
    return [
        name
        for _converter, name in route.parameters
        if name != "organization_id" and name not in ROUTE_IDS
    ]


def test_every_route_parameter_is_declared():
    missing = {route.route: _undeclared(route) for route in TENANT_ROUTES if _undeclared(route)}
    assert not missing, "\n".join(
        f"/{route} ({', '.join(names)}): declare how to make a tenant's object for "
        f"{' and '.join(names)} in {registry.DECLARATIONS}, e.g. declare_route_ids("
        f"RouteId({names[0]!r}, make=lambda tenant, folder: …, in_folder=…)), or skip the "
        "route in SKIPPED_ROUTES with a reason."
        for route, names in missing.items()
    )


def test_every_skipped_route_still_exists():
    every = {route.route for route in _walk(get_resolver().url_patterns)}
    assert set(SKIPPED_ROUTES) <= every
    for prefix in SKIPPED_PREFIXES:
        assert any(route.startswith(prefix) for route in every), prefix


def test_every_probed_route_is_a_plain_path_pattern():
    unsupported = [route for route in ROUTES if "<regex" in route.name]
    assert not unsupported, f"add support or a reasoned skip for: {unsupported}"


def test_the_undeclared_check_names_what_to_declare():
    route = Route("o/<uuid:organization_id>/gadgets/<uuid:gadget_id>/", "gadgets:detail")
    assert _undeclared(route) == ["gadget_id"]


def test_the_probe_sees_the_organization_routes():
    names = {route.name for route in TENANT_ROUTES}
    assert {"organizations:folder-detail", "api:folder-detail", "api:member-detail"} <= names
    assert len(FOLDER_ROUTES) >= 7


@pytest.fixture
def tenants(db):
    """Two organizations of the shared cast: `mine` (where the prober is a member) and `theirs`.

    Each adds to the cast a viewer without grants and an API token of its owner; `site` is the
    viewer's granted folder and `sibling` a folder outside it.
    """

    def build(name: str) -> SimpleNamespace:
        tenant = build_tenant(name)
        tenant.site, tenant.sibling = tenant.building_a1, tenant.site_b
        tenant.blind_viewer = MembershipFactory(organization=tenant.organization, role=Role.VIEWER)
        tenant.token, tenant.raw_token = services.create_api_token(
            actor=tenant.owner, name=f"{name} token", expires_on=timezone.localdate() + timedelta(7)
        )
        return tenant

    return {"mine": build("Mine Inc"), "theirs": build("Theirs Ltd")}


def _values(route: Route, ids: dict, organization_id) -> dict:
    """Fill each path parameter with the declared tenant's object; fail on an undeclared one."""
    values = {}
    for _converter, name in route.parameters:
        if name == "organization_id":
            values[name] = organization_id
        elif name in ids:
            values[name] = ids[name]
        else:
            pytest.fail(f"/{route.route}: nobody declared {name!r} (see {registry.DECLARATIONS})")
    return values


def _ids(tenant: SimpleNamespace, folder) -> dict:
    """Make one object of the tenant for every declared URL parameter (in `folder` if filed)."""
    return {name: route_id.make(tenant, folder) for name, route_id in ROUTE_IDS.items()}


def _methods(route: Route) -> list[str]:
    return ["get", "post", "patch", "delete"] if route.is_api else ["get", "post"]


def _call(client, method: str, url: str, **extra):
    if method in ("patch", "delete"):
        return getattr(client, method)(url, data="{}", content_type="application/json", **extra)
    return getattr(client, method)(url, **extra)


def _probe(client, routes, values_for, expected, **extra) -> list[str]:
    failures = []
    for route in routes:
        url = route.url(values_for(route))
        for method in _methods(route):
            response = _call(client, method, url, **extra)
            if not expected(route, response):
                failures.append(f"{method.upper()} {url} ({route.name}) → {response.status_code}")
    return failures


def _tenant_object_parameters(route: Route) -> list[str]:
    """Return the route's parameters that name a tenant's object (not shared catalogue ids)."""
    return [
        name
        for _converter, name in route.parameters
        if name != "organization_id" and not (name in ROUTE_IDS and ROUTE_IDS[name].is_shared)
    ]


def _is_404(route, response) -> bool:
    # 405 answers a method the route never supports, whatever the ids: it reveals nothing.
    return response.status_code in (404, 405)


def test_another_organizations_ids_are_404_everywhere(client, tenants):
    mine, theirs = tenants["mine"], tenants["theirs"]
    client.force_login(mine.owner.user)
    their_ids = _ids(theirs, theirs.site)
    failures = _probe(
        client,
        TENANT_ROUTES,
        lambda route: _values(route, their_ids, theirs.organization.pk),
        _is_404,
    )
    assert not failures, "\n".join(failures)


def test_another_organizations_objects_under_my_organization_id_are_404(client, tenants):
    mine, theirs = tenants["mine"], tenants["theirs"]
    client.force_login(mine.owner.user)
    their_ids = _ids(theirs, theirs.site)
    routes = [route for route in TENANT_ROUTES if _tenant_object_parameters(route)]
    failures = _probe(
        client,
        routes,
        lambda route: _values(route, their_ids, mine.organization.pk),
        _is_404,
    )
    assert not failures, "\n".join(failures)


def test_an_api_token_of_another_organization_is_404_everywhere(client, tenants):
    mine, theirs = tenants["mine"], tenants["theirs"]
    their_ids = _ids(theirs, theirs.site)
    api_routes = [route for route in TENANT_ROUTES if route.is_api]
    failures = _probe(
        client,
        api_routes,
        lambda route: _values(route, their_ids, theirs.organization.pk),
        _is_404,
        headers={"Authorization": f"Token {mine.raw_token}"},
    )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("who", "folder"),
    [("viewer", "sibling"), ("viewer", "top"), ("blind_viewer", "top"), ("blind_viewer", "site")],
)
def test_a_viewer_gets_404_for_folders_outside_their_grants(client, tenants, who, folder):
    mine = tenants["mine"]
    client.force_login(getattr(mine, who).user)
    own_ids = _ids(mine, getattr(mine, folder))
    failures = _probe(
        client,
        FOLDER_ROUTES,
        lambda route: _values(route, own_ids, mine.organization.pk),
        _is_404,
    )
    assert not failures, "\n".join(failures)


def test_signed_out_visitors_are_sent_to_sign_in(client, tenants):
    theirs = tenants["theirs"]
    their_ids = _ids(theirs, theirs.site)

    def to_sign_in(route, response) -> bool:
        if route.is_api:
            return response.status_code == 401
        return response.status_code == 302 and response.url.startswith("/accounts/sign-in/")

    failures = _probe(
        client,
        TENANT_ROUTES,
        lambda route: _values(route, their_ids, theirs.organization.pk),
        to_sign_in,
    )
    assert not failures, "\n".join(failures)


def test_pages_without_parameters_show_nothing_of_another_organization(client, tenants):
    mine, theirs = tenants["mine"], tenants["theirs"]
    client.force_login(mine.owner.user)
    secrets = [
        theirs.organization.name,
        str(theirs.organization.pk),
        str(theirs.site.pk),
        theirs.owner.user.email,
    ]
    leaks = []
    for route in PLAIN_ROUTES:
        response = client.get(route.url({}), follow=True)
        body = response.content.decode(errors="replace")
        leaks += [f"GET /{route.route} shows {secret}" for secret in secrets if secret in body]
    assert not leaks, "\n".join(leaks)


def test_an_outsider_with_no_membership_gets_404(client, tenants):
    theirs = tenants["theirs"]
    client.force_login(UserFactory())
    their_ids = _ids(theirs, theirs.site)
    failures = _probe(
        client,
        TENANT_ROUTES,
        lambda route: _values(route, their_ids, theirs.organization.pk),
        _is_404,
    )
    assert not failures, "\n".join(failures)


def test_every_route_of_an_archived_organization_is_404_and_its_tokens_stop(client, tenants):
    mine = tenants["mine"]
    organization = mine.organization
    services.archive_organization(
        actor=mine.owner, confirmation_id=str(organization.pk), understood=True
    )
    own_ids = _ids(mine, mine.site)
    client.force_login(mine.owner.user)
    failures = _probe(
        client, TENANT_ROUTES, lambda route: _values(route, own_ids, organization.pk), _is_404
    )
    client.logout()
    api_routes = [route for route in TENANT_ROUTES if route.is_api]
    failures += _probe(
        client,
        api_routes,
        lambda route: _values(route, own_ids, organization.pk),
        lambda route, response: response.status_code == 401,
        headers={"Authorization": f"Token {mine.raw_token}"},
    )
    assert not failures, "\n".join(failures)


# The only routes a camera-station server's token opens (devices/servers/api.py).
SERVER_ROUTES = {"api/v1/servers/register", "api/v1/servers/check-in"}


@pytest.mark.parametrize("keyword", ["Server", "Token", "Bearer"])
def test_a_server_token_opens_no_route_but_the_server_api(client, tenants, keyword):
    """A server token is no member: every other route answers it as a signed-out visitor.

    Tenant routes send it to sign-in (401 on the API); public routes answer what they answer
    anyone. Compared request by request with the same call without the header.
    """
    from devices.servers import services as server_services

    mine = tenants["mine"]
    _registration, raw_registration = server_services.create_registration_token(
        actor=mine.owner, folder_id=mine.site.pk, name="Probe", valid_hours=1
    )
    _server, raw = server_services.register_server(registration_token=raw_registration, name="p")
    own_ids = _ids(mine, mine.site)
    header = {"Authorization": f"{keyword} {raw}"}
    failures = []
    for route in ROUTES:
        if route.route in SERVER_ROUTES:
            continue
        url = route.url(_values(route, own_ids, mine.organization.pk))
        for method in _methods(route):
            with_token = _call(client, method, url, headers=header)
            anonymous = _call(client, method, url)
            same = (with_token.status_code, with_token.get("Location")) == (
                anonymous.status_code,
                anonymous.get("Location"),
            )
            opened = route.parameters and with_token.status_code not in (302, 401, 404, 405)
            if not same or opened:
                failures.append(f"{method.upper()} {url} → {with_token.status_code}")
    assert not failures, "\n".join(failures)


def test_another_organizations_ids_in_request_bodies_change_nothing(client, tenants):
    """Ids in JSON bodies are resolved inside the URL's organization, like ids in paths."""
    from organizations.models import AuditEvent

    mine, theirs = tenants["mine"], tenants["theirs"]
    organization = mine.organization
    client.force_login(mine.owner.user)
    before = AuditEvent.objects.filter(organization=organization).count()
    base = f"/api/v1/organizations/{organization.pk}"
    their_folder = str(theirs.site.pk)
    calls = [
        ("post", f"{base}/folders/", {"parent_id": their_folder, "name": "Probe"}),
        ("post", f"{base}/folders/{mine.site.pk}/move/", {"new_parent_id": their_folder}),
        (
            "patch",
            f"{base}/members/{mine.viewer.pk}/",
            {"role": "viewer", "folder_ids": [their_folder]},
        ),
        (
            "post",
            f"{base}/invitations/",
            {"emails": ["p@example.com"], "folder_ids": [their_folder]},
        ),
    ]
    failures = []
    for method, url, body in calls:
        response = getattr(client, method)(url, body, content_type="application/json")
        if response.status_code not in (400, 404):
            failures.append(f"{method.upper()} {url} → {response.status_code}")
    assert not failures, "\n".join(failures)
    assert AuditEvent.objects.filter(organization=organization).count() == before
