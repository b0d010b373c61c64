"""What the API fuzzer found, one regression test each (the fuzzer: test_api_fuzz.py)."""

import pytest
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
