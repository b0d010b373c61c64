"""What the API fuzzer found, one regression test each (the fuzzer: test_api_fuzz.py)."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client, override_settings
from django.urls import path

pytestmark = pytest.mark.django_db


def _assert_error_body(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["fields"] == {}


# --- Paths no route matches ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/organizations/null,null/",
        "/api/v1/organizations/0/folders/",
        "/api/v1/no-such-thing/",
    ],
)
def test_an_api_path_no_route_matches_answers_the_error_body(client, url):
    _assert_error_body(client.get(url), 404, "not_found")


def test_a_page_no_route_matches_is_still_the_friendly_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def _crash(request):
    raise RuntimeError("boom")


urlpatterns = [path("api/v1/crash/", _crash)]
handler500 = "config.views.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_an_api_crash_answers_the_error_body():
    client = Client(raise_request_exception=False)
    _assert_error_body(client.get("/api/v1/crash/"), 500, "server_error")


# --- The schema documents what the API answers ----------------------------------------------


@pytest.fixture
def openapi(client, user):
    client.force_login(user)
    return client.get("/api/v1/schema/", headers={"Accept": "application/json"}).json()


def _operations(openapi):
    for path_, operations in openapi["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path_}", operation


def test_every_documented_error_has_the_error_body(openapi):
    error = openapi["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "fields"]
    for name, operation in _operations(openapi):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (name, status)


def test_every_operation_documents_401_and_429_and_bodies_415(openapi):
    for name, operation in _operations(openapi):
        assert {"401", "429"} <= set(operation["responses"]), name
        if "requestBody" in operation:
            assert "415" in operation["responses"], name


def test_the_organization_list_is_documented_as_the_paginated_list_it_is(openapi):
    operation = openapi["paths"]["/api/v1/organizations/"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PaginatedOrganizationList"}
    assert "404" in operation["responses"]  # ?page=9 answers 404


def test_created_invitations_are_documented_as_a_plain_array_without_pages(openapi):
    operation = openapi["paths"]["/api/v1/organizations/{organization_id}/invitations/"]["post"]
    schema = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert schema == {"type": "array", "items": {"$ref": "#/components/schemas/Invitation"}}
    assert "page" not in {parameter["name"] for parameter in operation.get("parameters", [])}


# --- Bodies -------------------------------------------------------------------------------


def test_a_form_body_is_refused_with_415_and_changes_nothing(client, owner, organization):
    client.force_login(owner.user)
    url = f"/api/v1/organizations/{organization.pk}/"
    response = client.patch(
        url, "requires_mfa=0&name=Renamed", content_type="application/x-www-form-urlencoded"
    )
    _assert_error_body(response, 415, "unsupported_media_type")
    organization.refresh_from_db()
    assert organization.name != "Renamed"


def test_a_multipart_body_of_too_many_fields_answers_the_error_body(client, owner, organization):
    client.force_login(owner.user)
    url = f"/api/v1/organizations/{organization.pk}/members/{owner.pk}/"
    fields = "".join(
        '--b\r\nContent-Disposition: form-data; name="folder_ids"\r\n\r\n\r\n' for _ in range(1200)
    )
    response = client.patch(
        url, f"{fields}--b--\r\n", content_type="multipart/form-data; boundary=b"
    )
    _assert_error_body(response, 415, "unsupported_media_type")


def _suspicious(request):
    raise SuspiciousOperation("too many fields")


urlpatterns.append(path("api/v1/suspicious/", _suspicious))
handler400 = "config.views.bad_request"


@override_settings(ROOT_URLCONF=__name__)
def test_a_request_django_refuses_before_any_api_view_answers_the_error_body(client):
    _assert_error_body(client.get("/api/v1/suspicious/"), 400, "bad_request")


# --- Types --------------------------------------------------------------------------------


@pytest.fixture
def owner_api(client, owner):
    client.force_login(owner.user)
    return client


@pytest.mark.parametrize(
    ("url_name", "body", "field"),
    [
        ("organization", {"name": 0}, "name"),
        ("organization", {"notes": True}, "notes"),
        ("folder-create", {"parent_id": "TOP", "name": 12}, "name"),
        ("folder-create", {"parent_id": 5, "name": "Gate"}, "parent_id"),
        ("folder", {"name": 1.5}, "name"),
        ("folder", {"time_zone": 9}, "time_zone"),
        ("member", {"role": "viewer", "folder_ids": [7]}, "folder_ids"),
        ("archive", {"confirmation_id": 1, "understood": True}, "confirmation_id"),
    ],
)
def test_a_number_where_text_or_an_id_is_due_is_refused(
    owner_api, owner, organization, folders, url_name, body, field
):
    base = f"/api/v1/organizations/{organization.pk}/"
    url, method = {
        "organization": (base, "patch"),
        "folder-create": (f"{base}folders/", "post"),
        "folder": (f"{base}folders/{folders.site_a.pk}/", "patch"),
        "member": (f"{base}members/{owner.pk}/", "patch"),
        "archive": (f"{base}archive/", "post"),
    }[url_name]
    if body.get("parent_id") == "TOP":
        body = {**body, "parent_id": str(folders.top.pk)}
    response = getattr(owner_api, method)(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_a_number_as_an_organization_or_token_name_is_refused(owner_api, organization):
    response = owner_api.post(
        "/api/v1/organizations/", {"name": 0}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]
    response = owner_api.post(
        f"/api/v1/organizations/{organization.pk}/api-tokens/",
        {"name": 42, "expires_on": "2099-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


# --- Query strings ------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["", "0", "x"])
def test_a_page_that_is_not_a_page_number_answers_404(owner_api, organization, page):
    response = owner_api.get(f"/api/v1/organizations/{organization.pk}/folders/?page={page}")
    _assert_error_body(response, 404, "not_found")
    _assert_error_body(owner_api.get(f"/api/v1/organizations/?page={page}"), 404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        "until=",
        "since=",
        "actor=",
        "action=",
        "since=9999-12-31T23:59:59-12:00",
        "until=0001-01-01T00:00:00%2B14:00",
        "actor=a%00b",
    ],
)
def test_an_activity_filter_that_is_empty_or_not_a_date_is_refused(owner_api, organization, query):
    url = f"/api/v1/organizations/{organization.pk}/audit-events/?{query}"
    response = owner_api.get(url)
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()["error"]["fields"]


# --- The other organization's ids ---------------------------------------------------------


def test_another_organizations_folder_is_refused_for_an_admin_too(
    owner_api, organization, viewer, other_tenant
):
    url = f"/api/v1/organizations/{organization.pk}/members/{viewer.pk}/"
    body = {"role": "admin", "folder_ids": [str(other_tenant.site_a.pk)]}
    response = owner_api.patch(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "folders_unknown"
    viewer.refresh_from_db()
    assert viewer.role == "viewer"


def test_another_organizations_folder_is_refused_in_an_admin_invitation(
    owner_api, organization, other_tenant
):
    organization.allow_elevated_invitations = True
    organization.save()
    url = f"/api/v1/organizations/{organization.pk}/invitations/"
    body = {
        "emails": ["new@example.com"],
        "role": "admin",
        "folder_ids": [str(other_tenant.top.pk)],
    }
    response = owner_api.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "folders_unknown"
    assert not organization.invitations.exists()
