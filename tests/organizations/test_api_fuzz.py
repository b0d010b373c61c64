"""Schemathesis fuzzes the API against its own OpenAPI schema, in-process over WSGI.

The caller is the owner of one organization, with an API token (and, for the two actions tokens
may not take, signed in). A second organization with the same cast is in play: every UUID the
fuzzer puts in a path or names a folder with in a body is swapped for an id of either
organization or left random. The swap is a function of the generated UUID, so Hypothesis can
replay and shrink. Every example runs in a savepoint that is rolled back afterwards, so each one
starts from the same two organizations.

Checks: no 5xx; status, content type, headers and body as the schema documents; every error
answers {"error": {"code", "message", "fields"}}; the other organization's ids answer 404 in a
path and are never accepted in a body.

`make test` runs a small budget with a fixed seed; `make fuzz` runs a larger one with a new seed
(FUZZ_EXAMPLES, FUZZ_SEED).
"""

import os
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.utils import timezone
from schemathesis.config import HealthCheck
from schemathesis.specs.openapi import checks as openapi_checks

from organizations import services
from tests.organizations.factories import InvitationFactory

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "20261204"))

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.negative_data_rejection,
]

# A body refused unread (not JSON, or not JSON at all) before anything is looked up answers the
# same for any id in the path, so it tells nothing about the other organization. (A signed-in
# caller's CSRF check reads the body during authentication, before the organization.)
UNREAD = {(415, "unsupported_media_type"), (400, "parse_error")}
# Which pool of ids each path parameter draws from.
PATH_POOLS = {
    "organization_id": "organizations",
    "member_id": "members",
    "folder_id": "folders",
    "invitation_id": "invitations",
    "token_id": "tokens",
}
# Body fields that name folders.
BODY_FOLDER_FIELDS = ("parent_id", "new_parent_id")
# The actions an API token may not take; the fuzzer takes them signed in.
SESSION_ONLY = [
    ("POST", "/api/v1/organizations/"),
    ("POST", "/api/v1/organizations/{organization_id}/api-tokens/"),
]


def _ids(tenant, *, token_ids, invitation_ids) -> dict[str, list[uuid.UUID]]:
    folders = [tenant.top, tenant.site_a, tenant.building_a1, tenant.room_a1x, tenant.site_b]
    members = [tenant.owner, tenant.admin, tenant.operator, tenant.viewer]
    return {
        "organizations": [tenant.organization.pk],
        "members": [member.pk for member in members],
        "folders": [folder.pk for folder in folders],
        "invitations": invitation_ids,
        "tokens": token_ids,
    }


def _token(membership) -> tuple[uuid.UUID, str]:
    token, raw = services.create_api_token(
        actor=membership, name="fuzz", expires_on=timezone.localdate() + timedelta(days=30)
    )
    return token.pk, raw


@pytest.fixture
def world(tenant, other_tenant):
    """Both organizations' ids by kind, the owner's credentials, and which ids are foreign."""
    own_token_id, raw = _token(tenant.owner)
    admin_token_id, _raw = _token(tenant.admin)
    other_token_id, _raw = _token(other_tenant.owner)
    own = _ids(
        tenant,
        token_ids=[own_token_id, admin_token_id],
        invitation_ids=[InvitationFactory(organization=tenant.organization).pk],
    )
    other = _ids(
        other_tenant,
        token_ids=[other_token_id],
        invitation_ids=[InvitationFactory(organization=other_tenant.organization).pk],
    )
    client = Client()
    client.force_login(tenant.owner.user)
    csrf_token = "f" * 32
    return SimpleNamespace(
        # Own ids three times over: most cases reach the handlers; the rest probe the other tenant.
        pools={kind: own[kind] * 3 + other[kind] for kind in own},
        foreign={str(value) for values in other.values() for value in values},
        token_headers={"Authorization": f"Token {raw}"},
        session_headers={"X-CSRFToken": csrf_token},
        session_cookies={"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf_token},
    )


def _swap(value, pool):
    """Map a generated UUID onto an id of the pool or keep it: the same input, the same id."""
    try:
        generated = uuid.UUID(str(value))
    except (TypeError, ValueError):
        return value  # a negative case's malformed id stays malformed
    choices = [*pool, generated]
    return str(choices[generated.int % len(choices)])


@pytest.fixture
def wsgi_app():
    """The real WSGI handler, minus closing the test's connection (as Django's test client)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _load_schema(world, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    schema.config.generation.update(max_examples=MAX_EXAMPLES, database="none")
    schema.config.seed = SEED
    # The machine is shared: slow draws are the server's time, not the strategy's.
    schema.config.update(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

    @schema.hook
    def map_case(context, case):
        for name, kind in PATH_POOLS.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = _swap(case.path_parameters[name], world.pools[kind])
        if isinstance(case.body, dict):
            for name in BODY_FOLDER_FIELDS:
                if name in case.body:
                    case.body[name] = _swap(case.body[name], world.pools["folders"])
            if isinstance(case.body.get("folder_ids"), list):
                case.body["folder_ids"] = [
                    _swap(value, world.pools["folders"]) for value in case.body["folder_ids"]
                ]
        return case

    return schema


@pytest.fixture
def token_schema(world, wsgi_app):
    return _load_schema(world, wsgi_app)


@pytest.fixture
def session_schema(world, wsgi_app):
    return _load_schema(world, wsgi_app)


def _is_session_only(context) -> bool:
    operation = context.operation
    return (operation.method.upper(), operation.path) in SESSION_ONLY


def _foreign_ids(values, world) -> set[str]:
    found = set()
    for value in values:
        if isinstance(value, list):
            found |= _foreign_ids(value, world)
        elif str(value) in world.foreign:
            found.add(str(value))
    return found


def _error_code(response) -> str | None:
    if response.status_code < 400:
        return None
    return response.json()["error"]["code"]


def _check_answer(case, response, world) -> None:
    """The checks schemathesis has no name for: error bodies and the other tenant's ids."""
    if response.status_code >= 400:
        assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
            f"{response.status_code} without a JSON error body"
        )
        error = response.json()["error"]
        assert isinstance(error["code"], str), error
        assert error["code"], error
        assert isinstance(error["message"], str), error
        assert isinstance(error["fields"], dict), error
    if response.request.method != case.operation.method.upper():
        return  # a probe with another method (OPTIONS answers DRF's description of the view)
    in_path = _foreign_ids((case.path_parameters or {}).values(), world)
    if in_path and (response.status_code, _error_code(response)) not in UNREAD:
        assert response.status_code == 404, f"another organization's {in_path} answered"
    body = case.body if isinstance(case.body, dict) else {}
    in_body = _foreign_ids(body.values(), world)
    if in_body:
        assert response.status_code >= 400, f"another organization's {in_body} was accepted"


def _run(case, *, world, headers, cookies=None) -> None:
    savepoint = transaction.savepoint()
    try:
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS, headers=headers)
        _check_answer(case, response, world)
    finally:
        transaction.savepoint_rollback(savepoint)


token_api = schemathesis.pytest.from_fixture("token_schema").exclude(func=_is_session_only)
session_api = schemathesis.pytest.from_fixture("session_schema").include(func=_is_session_only)


@pytest.mark.slow
@token_api.parametrize()
def test_the_api_answers_an_owner_token_as_its_schema_says(case, world):
    _run(case, world=world, headers=world.token_headers)


@pytest.mark.slow
@session_api.parametrize()
def test_the_api_answers_a_signed_in_owner_as_its_schema_says(case, world):
    _run(case, world=world, headers=world.session_headers, cookies=world.session_cookies)
