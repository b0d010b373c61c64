"""A person's name holds no control or format characters: sign-up, invitation sign-up, profile."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import User
from common.errors import Invalid
from tests.organizations.factories import InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["Ann\nBcc: x@example.com", "Ann\x1b[31m", "Ann\u202e"])
def test_sign_up_refuses_a_name_with_control_characters(name):
    with pytest.raises(Invalid) as refused:
        services.sign_up(email="ann@example.com", password="a-long-new-password-7", name=name)
    assert refused.value.code == "name_control_characters"
    assert not User.objects.exists()


def test_the_sign_up_page_refuses_a_name_with_a_line_break(client):
    response = client.post(
        reverse("accounts:sign-up"),
        {"name": "Ann\r\nLee", "email": "ann@example.com", "password": "a-long-new-password-7"},
    )
    assert response.status_code == 200
    assert "line breaks" in response.content.decode()
    assert not User.objects.exists()


def test_the_invitation_sign_up_refuses_a_name_with_an_escape_sequence(client):
    invitation = InvitationFactory(email="new@example.com")
    response = client.post(
        reverse("organizations:invitation-accept", args=[invitation.raw_token]),
        {"name": "Nina\x1b]0;owned\x07", "password": "a-long-new-password-7"},
    )
    assert response.status_code == 400
    assert "control" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_the_profile_refuses_a_name_with_a_format_character(client, user):
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"),
        {"name": "Ann\u200bLee", "language": "", "time_zone": "UTC"},
    )
    assert "control" in response.content.decode()
    user.refresh_from_db()
    assert user.name != "Ann\u200bLee"
