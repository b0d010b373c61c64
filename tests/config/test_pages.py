import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_unknown_page_answers_a_friendly_404(client, user):
    client.force_login(user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "This page does not exist, or you do not have access to it." in response.content.decode()


def test_dashboard_needs_sign_in(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_pages_follow_the_browser_language_until_the_person_chooses(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="ja")
    assert response["Content-Language"] == "ja"
    assert '<html lang="ja">' in response.content.decode()


def test_api_docs_are_served_without_a_cdn(client, user):
    client.force_login(user)
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    assert "cdn.jsdelivr" not in response.content.decode()


def test_health_check_answers_without_sign_in(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.content == b"ok\n"
