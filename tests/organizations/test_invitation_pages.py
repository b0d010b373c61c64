"""The invitation pages: what a pending invitation offers, where the role policy lives, and a
new user's one step from the link to the organization."""

import pytest
from django.urls import reverse

from organizations.models import AuditEvent, Membership
from organizations.roles import Role
from tests.accounts.factories import UserFactory
from tests.organizations.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def _url(name, organization, *args):
    return reverse(f"organizations:{name}", args=[organization.pk, *args])


def _accept_url(invitation):
    return reverse("organizations:invitation-accept", args=[invitation.raw_token])


def test_pending_invitations_show_role_folders_delivery_and_resend(
    client, admin, organization, folders
):
    invitation = InvitationFactory(organization=organization, email="vera@example.com")
    invitation.folders.set([folders.site_b, folders.building_a1])
    client.force_login(admin.user)
    page = client.get(_url("member-list", organization)).content.decode()
    row = page[page.index(f'id="invitation-{invitation.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Viewer" in row
    assert "Building A1" in row
    assert "Site B" in row
    assert "On its way" in row
    assert _url("invitation-resend", organization, invitation.pk) in row
    assert _url("invitation-revoke", organization, invitation.pk) in row


def test_the_invite_form_links_to_the_role_policy_while_only_viewers_are_allowed(
    client, owner, admin, organization
):
    security_url = _url("organization-security", organization)
    client.force_login(owner.user)
    page = client.get(_url("invitation-create", organization)).content.decode()
    assert f'<a href="{security_url}">Settings → Security</a>' in page
    assert "You can allow operator and admin invitations" in page
    client.force_login(admin.user)
    page = client.get(_url("invitation-create", organization)).content.decode()
    assert "An owner can allow operator and admin invitations" in page
    assert f'<a href="{security_url}">' in page
    organization.allow_elevated_invitations = True
    organization.save()
    page = client.get(_url("invitation-create", organization)).content.decode()
    assert f'<a href="{security_url}">' not in page


def test_a_new_user_creates_the_account_and_joins_in_one_step(client, organization, folders):
    invitation = InvitationFactory(organization=organization, email="nina@example.com")
    invitation.folders.set([folders.site_b])
    page = client.get(_accept_url(invitation)).content.decode()
    # Creating the account is the main button; signing in is the secondary way.
    assert 'class="btn btn-primary w-100">Create account and continue' in page
    assert 'class="btn btn-primary w-100 mb-3"' not in page
    response = client.post(
        _accept_url(invitation),
        {"name": "Nina", "password": "a-long-new-password-7"},
        REMOTE_ADDR="198.51.100.7",
        follow=True,
    )
    membership = Membership.objects.get(user__email="nina@example.com")
    assert response.redirect_chain[-1][0] == reverse(
        "organizations:organization-detail", args=[organization.pk]
    )
    assert "Welcome to Acme Security." in response.content.decode()
    assert (membership.role, [f.name for f in membership.granted_folders]) == (
        Role.VIEWER,
        ["Site B"],
    )
    accepted = AuditEvent.objects.get(organization=organization, action="invitation.accept")
    assert accepted.client_address == "198.51.100.7"


def test_an_invitee_with_an_account_is_offered_sign_in_first(client, organization):
    person = UserFactory()
    invitation = InvitationFactory(organization=organization, email=person.email)
    page = client.get(_accept_url(invitation)).content.decode()
    assert 'class="btn btn-primary w-100 mb-3" href="/accounts/sign-in/?next=' in page
    assert "Create account and continue" not in page


def test_opening_an_accepted_link_again_leads_into_the_organization(client, organization):
    person = UserFactory()
    invitation = InvitationFactory(organization=organization, email=person.email)
    client.force_login(person)
    client.post(_accept_url(invitation))
    response = client.get(_accept_url(invitation))
    assert response.url == reverse("organizations:organization-detail", args=[organization.pk])
    client.force_login(UserFactory())
    assert client.get(_accept_url(invitation)).status_code == 400


def test_a_link_whose_sender_was_removed_explains_itself_before_any_account_is_made(
    client, owner, admin, organization
):
    invitation = InvitationFactory(
        organization=organization, email="late@example.com", invited_by=admin.user
    )
    Membership.objects.filter(pk=admin.pk).delete()
    response = client.get(_accept_url(invitation))
    assert response.status_code == 400
    assert "no longer a member of Acme Security" in response.content.decode()
