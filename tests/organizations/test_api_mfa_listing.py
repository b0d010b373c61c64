"""The organization list shows a session without a second factor no more than the detail does."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations.roles import Role
from tests.organizations.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def guarded(owner, organization):
    """The owner's organization requires MFA and keeps secrets in its notes."""
    organization.requires_mfa = True
    organization.allow_elevated_invitations = True
    organization.notes = "Alarm code 4711"
    organization.save()
    return organization


def _listing(client) -> dict:
    response = client.get(reverse("api:organization-list"))
    assert response.status_code == 200
    return {item["id"]: item for item in response.json()["results"]}


def test_a_session_without_a_second_factor_lists_an_mfa_organization_by_name_only(
    client, owner, guarded
):
    open_organization = MembershipFactory(user=owner.user, role=Role.VIEWER).organization
    client.force_login(owner.user)
    listing = _listing(client)
    assert listing[str(guarded.pk)] == {
        "id": str(guarded.pk),
        "name": guarded.name,
        "role": Role.OWNER,
        "requires_mfa": True,
        "mfa_required": True,
        "notes": None,
        "allow_elevated_invitations": None,
        "created_at": None,
    }
    assert "Alarm code" not in str(listing)
    other = listing[str(open_organization.pk)]
    assert other["mfa_required"] is False
    assert other["notes"] == ""
    detail = client.get(reverse("api:organization-detail", args=[guarded.pk]))
    assert detail.status_code == 403
    assert detail.json()["error"]["code"] == "mfa_required"


def test_a_session_with_a_second_factor_lists_everything(client, owner, guarded):
    device = TOTPDevice.objects.create(user=owner.user, name="app", confirmed=True)
    client.force_login(owner.user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    item = _listing(client)[str(guarded.pk)]
    assert item["notes"] == "Alarm code 4711"
    assert item["mfa_required"] is False
    assert item["allow_elevated_invitations"] is True
