"""Limits live in the services: forms and serializers leave them to the service, whose refusal
the page and the API show on the field (one rule, one message)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizations import services
from organizations.api.serializers import ApiTokenCreateSerializer
from organizations.forms import ApiTokenCreateForm, InviteForm, OrganizationCreateForm
from organizations.models import ApiToken, Invitation, Organization
from organizations.roles import Role

pytestmark = pytest.mark.django_db

ONE_YEAR = "Choose a date at most one year from today."
IN_THE_PAST = "Choose an expiry date in the future."


def _too_far() -> str:
    return (timezone.localdate() + timedelta(days=services.MAX_TOKEN_DAYS + 1)).isoformat()


def _today() -> str:
    return timezone.localdate().isoformat()


def _addresses(count: int) -> str:
    return "\n".join(f"person{n}@example.com" for n in range(count))


def test_the_forms_and_serializer_leave_the_limits_to_the_services(admin, folders):
    assert ApiTokenCreateForm({"name": "ci", "expires_on": _too_far()}).is_valid()
    assert ApiTokenCreateSerializer(data={"name": "ci", "expires_on": _too_far()}).is_valid()
    assert ApiTokenCreateForm({"name": "ci", "expires_on": _today()}).is_valid()
    assert ApiTokenCreateSerializer(data={"name": "ci", "expires_on": _today()}).is_valid()
    invite = InviteForm(
        {
            "emails": _addresses(services.MAX_INVITATION_EMAILS + 1),
            "role": Role.VIEWER,
            "folders": [str(folders.site_b.pk)],
        },
        membership=admin,
        folders=[folders.site_b],
    )
    assert invite.is_valid(), invite.errors
    names = "\n".join(f"Site {n}" for n in range(services.MAX_FIRST_FOLDERS + 1))
    assert OrganizationCreateForm({"name": "Acme", "folder_names": names}).is_valid()


@pytest.mark.parametrize(("expires_on", "message"), [(_too_far, ONE_YEAR), (_today, IN_THE_PAST)])
def test_the_token_page_shows_the_services_lifetime_refusal(
    client, viewer, organization, expires_on, message
):
    client.force_login(viewer.user)
    url = reverse("organizations:token-list", args=[organization.pk])
    response = client.post(url, {"name": "ci", "expires_on": expires_on()})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(("expires_on", "message"), [(_too_far, ONE_YEAR), (_today, IN_THE_PAST)])
def test_the_api_shows_the_services_lifetime_refusal(
    api, viewer, organization, expires_on, message
):
    url = reverse("api:token-list", args=[organization.pk])
    response = api.login(viewer).post(url, {"name": "ci", "expires_on": expires_on()})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["expires_on"] == [message]
    assert not ApiToken.objects.exists()


def test_the_invite_page_shows_the_services_address_limit(client, admin, organization, folders):
    client.force_login(admin.user)
    url = reverse("organizations:invitation-create", args=[organization.pk])
    response = client.post(
        url,
        {
            "emails": _addresses(services.MAX_INVITATION_EMAILS + 1),
            "role": Role.VIEWER,
            "folders": [str(folders.site_b.pk)],
        },
    )
    assert response.status_code == 400
    assert "Invite at most 50 addresses at once." in response.content.decode()
    assert not Invitation.objects.exists()


def test_the_setup_page_shows_the_services_first_folder_limit(client, outsider):
    client.force_login(outsider)
    names = "\n".join(f"Site {n}" for n in range(services.MAX_FIRST_FOLDERS + 1))
    response = client.post(
        reverse("organizations:organization-create"), {"name": "Acme", "folder_names": names}
    )
    assert response.status_code == 400
    assert "Create at most 100 first folders here" in response.content.decode()
    assert not Organization.objects.filter(name="Acme").exists()
