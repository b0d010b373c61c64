"""Organization pages through the front door: status codes, messages, and what changed."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations import selectors, services
from organizations.models import (
    ApiToken,
    AuditEvent,
    Folder,
    Invitation,
    Membership,
    Organization,
)
from organizations.roles import Role
from tests.accounts.factories import PASSWORD, UserFactory
from tests.organizations.factories import FolderFactory, InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _url(name, organization, *args):
    return reverse(f"organizations:{name}", args=[organization.pk, *args])


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner.user)
    return client


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin.user)
    return client


@pytest.fixture
def as_viewer(client, viewer):
    client.force_login(viewer.user)
    return client


# --- Navigation and the setup assistant ---------------------------------------------------


def test_organization_menu_lists_the_members_organizations_and_the_create_link(
    as_owner, owner, organization, other_organization
):
    archived = MembershipFactory(user=owner.user, role=Role.OWNER).organization
    archived.archived_at = timezone.now()
    archived.save()
    response = as_owner.get(reverse("dashboard"))
    html = response.content.decode()
    assert organization.name in html
    assert other_organization.name not in html
    assert archived.name not in html
    assert "+ Create new organization" in html
    assert reverse("organizations:organization-create") in html


def test_setup_assistant_creates_the_organization_with_its_creator_as_owner(client, user):
    client.force_login(user)
    response = client.post(
        reverse("organizations:organization-create"),
        {"name": "Harbor Ops", "notes": "Port cameras", "folder_names": "Pier 1\nPier 2\n"},
    )
    organization = Organization.objects.get(name="Harbor Ops")
    assert response.status_code == 302
    assert response.url == reverse("organizations:organization-detail", args=[organization.pk])
    assert Membership.objects.get(organization=organization).role == Role.OWNER
    names = set(Folder.objects.filter(organization=organization).values_list("name", flat=True))
    assert names == {"Harbor Ops", "Pier 1", "Pier 2"}


def test_setup_assistant_refuses_a_blank_name_and_creates_nothing(client, user):
    client.force_login(user)
    response = client.post(reverse("organizations:organization-create"), {"name": "  "})
    assert response.status_code == 400
    assert not Organization.objects.exists()


def test_setup_assistant_requires_sign_in(client):
    response = client.get(reverse("organizations:organization-create"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_overview_shows_the_role_and_organization_navigation(as_owner, organization):
    response = as_owner.get(_url("organization-detail", organization))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your role: Owner" in html
    for name in ("folder-list", "member-list", "audit-event-list", "organization-settings"):
        assert _url(name, organization) in html


def test_overview_counts_every_folder_for_an_owner(as_owner, organization):
    html = as_owner.get(_url("organization-detail", organization)).content.decode()
    assert "5 folders you can see." in html


def test_overview_counts_only_the_granted_subtree_for_a_viewer(as_viewer, organization):
    html = as_viewer.get(_url("organization-detail", organization)).content.decode()
    assert "2 folders you can see." in html


def test_viewer_navigation_leaves_out_activity_and_settings_forms(as_viewer, organization):
    html = as_viewer.get(_url("organization-detail", organization)).content.decode()
    assert f'"{_url("audit-event-list", organization)}"' not in html
    assert f'"{_url("organization-settings", organization)}"' not in html
    assert f'"{_url("token-list", organization)}"' in html


def test_organization_of_which_one_is_no_member_is_404(client, outsider, organization):
    client.force_login(outsider)
    assert client.get(_url("organization-detail", organization)).status_code == 404


def test_archived_organization_is_404_for_its_members(as_owner, organization):
    organization.archived_at = timezone.now()
    organization.save()
    assert as_owner.get(_url("organization-detail", organization)).status_code == 404


# --- Members must use MFA -----------------------------------------------------------------


def test_member_without_mfa_is_sent_to_enrolment_when_the_organization_requires_it(
    as_owner, organization
):
    organization.requires_mfa = True
    organization.save()
    response = as_owner.get(_url("folder-list", organization), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:security")
    assert any("multi-factor" in message for message in _messages(response))


def test_htmx_request_without_mfa_navigates_to_enrolment_instead_of_swapping_it_in(
    as_owner, organization, owner
):
    organization.requires_mfa = True
    organization.save()
    response = as_owner.get(_url("member-change", organization, owner.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("accounts:security")


def test_member_with_a_verified_second_factor_enters_an_organization_requiring_mfa(
    client, owner, organization
):
    organization.requires_mfa = True
    organization.save()
    device = TOTPDevice.objects.create(user=owner.user, name="app", confirmed=True)
    client.force_login(owner.user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    assert client.get(_url("folder-list", organization)).status_code == 200


# --- Settings -----------------------------------------------------------------------------


def test_admin_renames_the_organization(as_admin, organization):
    response = as_admin.post(
        _url("organization-settings", organization), {"name": "Acme East", "notes": "New"}
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert (organization.name, organization.notes) == ("Acme East", "New")


def test_general_settings_show_the_organization_id_with_a_copy_button(as_admin, organization):
    html = as_admin.get(_url("organization-settings", organization)).content.decode()
    assert f'value="{organization.pk}" readonly' in html
    # The copy handler is a static file (the Content-Security-Policy allows no inline script).
    assert 'data-copy-target="organization-id"' in html
    script = re.search(r'<script src="([^"]*/js/camfleet\.js)"', html)
    assert script is not None
    assert (
        "navigator.clipboard" in b"".join(as_admin.get(script.group(1)).streaming_content).decode()
    )


def test_viewer_gets_403_with_a_message_on_the_settings_page(as_viewer, organization):
    response = as_viewer.post(_url("organization-settings", organization), {"name": "Hacked"})
    assert response.status_code == 403
    assert "does not allow" in response.content.decode()
    organization.refresh_from_db()
    assert organization.name == "Acme Security"


def test_owner_allows_elevated_invitations_and_requires_mfa(as_owner, organization):
    response = as_owner.post(
        _url("organization-security", organization),
        {"allow_elevated_invitations": "on", "requires_mfa": "on"},
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.allow_elevated_invitations
    assert organization.requires_mfa


def test_admin_sees_the_invitation_policy_but_cannot_change_it(as_admin, organization):
    page = as_admin.get(_url("organization-security", organization)).content.decode()
    assert "Only an owner can change this." in page
    response = as_admin.post(
        _url("organization-security", organization),
        {"allow_elevated_invitations": "on", "requires_mfa": "on"},
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert not organization.allow_elevated_invitations
    assert organization.requires_mfa


def test_api_token_is_shown_once_and_listed_with_its_last_use(as_viewer, organization):
    expires_on = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = as_viewer.post(
        _url("token-list", organization), {"name": "script", "expires_on": expires_on}
    )
    token = ApiToken.objects.get(name="script")
    raw = re.search(r'id="new-token" value="([^"]+)"', response.content.decode()).group(1)
    assert raw.startswith(token.prefix)
    listing = as_viewer.get(_url("token-list", organization)).content.decode()
    assert raw not in listing
    assert "script" in listing
    assert "Never" in listing


def test_api_token_list_is_a_fixed_number_of_queries(
    as_admin, admin, viewer, organization, django_assert_max_num_queries
):
    for index in range(5):
        for member in (admin, viewer):
            services.create_api_token(
                actor=member,
                name=f"t{index}",
                expires_on=timezone.localdate() + timedelta(days=5),
            )
    with django_assert_max_num_queries(8):
        response = as_admin.get(_url("token-list", organization))
    assert response.content.decode().count('id="token-') == 10
    assert viewer.user.email in response.content.decode()


def test_api_token_with_a_past_expiry_is_refused(as_viewer, organization):
    response = as_viewer.post(
        _url("token-list", organization), {"name": "old", "expires_on": "2000-01-01"}
    )
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoking_a_token_with_htmx_swaps_its_row(as_viewer, viewer, organization):
    token, _raw = services.create_api_token(
        actor=viewer, name="ci", expires_on=timezone.localdate() + timedelta(days=5)
    )
    response = as_viewer.post(
        _url("token-revoke", organization, token.pk), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_refused_htmx_action_answers_with_a_message_for_the_page(as_viewer, owner, organization):
    token, _raw = services.create_api_token(
        actor=owner, name="owner's", expires_on=timezone.localdate() + timedelta(days=5)
    )
    response = as_viewer.post(
        _url("token-revoke", organization, token.pk), headers={"HX-Request": "true"}
    )
    assert response.status_code == 404
    assert response["HX-Retarget"] == "#messages"
    assert "not found" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_archive_needs_the_exact_id_and_the_risk_box(as_owner, organization):
    response = as_owner.post(
        _url("organization-archive", organization),
        {"confirmation_id": "not-the-id", "understood": "on"},
    )
    assert response.status_code == 400
    response = as_owner.post(
        _url("organization-archive", organization), {"confirmation_id": str(organization.pk)}
    )
    assert response.status_code == 400
    organization.refresh_from_db()
    assert organization.archived_at is None


def test_owner_archives_by_pasting_the_id_and_the_organization_disappears(as_owner, organization):
    page = as_owner.get(_url("organization-archive", organization)).content.decode()
    assert str(organization.pk) in page
    assert "Restoring the organization does not bring its voided licenses back." in page
    response = as_owner.post(
        _url("organization-archive", organization),
        {"confirmation_id": str(organization.pk), "understood": "on"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Acme Security is archived." in _messages(response)
    assert organization not in response.context["member_organizations"]
    assert as_owner.get(_url("organization-detail", organization)).status_code == 404


def test_admin_may_not_archive(as_admin, organization):
    assert as_admin.get(_url("organization-archive", organization)).status_code == 403


# --- Users and invitations ----------------------------------------------------------------


def test_member_list_shows_roles_and_folder_access_in_few_queries(
    as_owner, organization, folders, django_assert_max_num_queries
):
    for _index in range(5):
        MembershipFactory(organization=organization, role=Role.VIEWER, folders=[folders.site_b])
    with django_assert_max_num_queries(14):
        response = as_owner.get(_url("member-list", organization))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Building A1" in html
    assert "All folders" in html
    assert html.count("Site B") >= 5


def test_viewer_sees_the_member_list_without_actions(as_viewer, organization, owner):
    html = as_viewer.get(_url("member-list", organization)).content.decode()
    assert owner.user.email in html
    assert "Roles and access" not in html
    assert "Pending invitations" not in html


def test_viewer_sees_no_folder_outside_their_grants_in_the_member_list(
    as_viewer, organization, operator, folders
):
    # The operator holds Site A, above the viewer's Building A1: not a folder the viewer knows.
    html = as_viewer.get(_url("member-list", organization)).content.decode()
    assert operator.user.email in html
    assert "Building A1" in html
    assert "Site A" not in html


def test_inviting_an_overlong_address_is_refused_and_invites_nobody(
    as_admin, organization, folders
):
    address = f"{'a' * 64}@{'b' * 60}.{'c' * 60}.{'d' * 60}.{'e' * 60}.com"  # 312 characters
    response = as_admin.post(
        _url("invitation-create", organization),
        {"emails": address, "role": Role.VIEWER, "folders": [folders.top.pk]},
    )
    assert response.status_code == 400
    assert "at most 254 characters" in response.content.decode()
    assert not Invitation.objects.exists()


def test_invite_offers_only_viewer_by_default(as_admin, organization):
    form = as_admin.get(_url("invitation-create", organization)).context["form"]
    assert [value for value, _label in form.fields["role"].choices] == [Role.VIEWER]


def test_inviting_several_addresses_sends_each_a_link(
    as_admin, organization, folders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post(
            _url("invitation-create", organization),
            {
                "emails": "ann@example.com, bob@example.com",
                "role": Role.VIEWER,
                "folders": [str(folders.site_a.pk)],
            },
        )
    assert response.status_code == 302
    assert set(Invitation.objects.values_list("email", flat=True)) == {
        "ann@example.com",
        "bob@example.com",
    }
    assert len(mail.outbox) == 2
    assert "http://testserver/invitations/" in mail.outbox[0].body


def test_inviting_a_bad_address_invites_nobody(as_admin, organization, folders):
    response = as_admin.post(
        _url("invitation-create", organization),
        {"emails": "ann@example.com nonsense", "role": Role.VIEWER, "folders": [folders.top.pk]},
    )
    assert response.status_code == 400
    assert "is not an e-mail address" in response.content.decode()
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_is_refused_with_a_message(
    as_admin, organization, folders, viewer
):
    response = as_admin.post(
        _url("invitation-create", organization),
        {"emails": viewer.user.email, "role": Role.VIEWER, "folders": [folders.top.pk]},
    )
    assert response.status_code == 409
    assert "Already members" in response.content.decode()
    assert not Invitation.objects.exists()


def test_operator_invitation_is_refused_while_the_policy_is_viewer_only(
    as_admin, organization, folders
):
    response = as_admin.post(
        _url("invitation-create", organization),
        {"emails": "ann@example.com", "role": Role.OPERATOR, "folders": [folders.top.pk]},
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_revoking_an_invitation_removes_it_from_the_pending_list(as_admin, organization):
    invitation = InvitationFactory(organization=organization)
    response = as_admin.post(_url("invitation-revoke", organization, invitation.pk), follow=True)
    assert "is revoked" in " ".join(_messages(response))
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED


def test_roles_and_access_changes_role_and_folders_at_once(as_admin, organization, folders, viewer):
    response = as_admin.post(
        _url("member-change", organization, viewer.pk),
        {"role": Role.OPERATOR, "folders": [str(folders.site_b.pk)]},
    )
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == Role.OPERATOR
    assert [folder.name for folder in viewer.granted_folders] == ["Site B"]


def test_roles_and_access_dialog_loads_into_the_users_page_with_htmx(
    as_admin, organization, viewer
):
    page = as_admin.get(_url("member-list", organization)).content.decode()
    assert 'id="member-dialog"' in page
    response = as_admin.get(
        _url("member-change", organization, viewer.pk), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert viewer.user.email in html
    assert 'name="role"' in html


def test_revoking_every_folder_of_a_viewer_is_refused_as_at_invitation(
    as_admin, organization, viewer
):
    before = viewer.granted_folders
    response = as_admin.post(_url("member-change", organization, viewer.pk), {"role": Role.VIEWER})
    assert response.status_code == 400
    assert "Choose at least one folder for an operator or viewer." in response.content.decode()
    viewer.refresh_from_db()
    assert before
    assert viewer.granted_folders == before


def test_changes_made_on_a_page_are_audited_with_the_client_address(
    as_admin, organization, folders
):
    as_admin.post(
        _url("folder-rename", organization, folders.site_b.pk),
        {"name": "Depot"},
        REMOTE_ADDR="192.0.2.7",
    )
    event = AuditEvent.objects.filter(organization=organization).order_by("-sequence").first()
    assert (event.action, event.client_address) == ("folder.update", "192.0.2.7")


def test_demoting_the_last_owner_is_refused_with_a_message(as_owner, organization, owner):
    response = as_owner.post(_url("member-change", organization, owner.pk), {"role": Role.ADMIN})
    assert response.status_code == 409
    assert "owner" in response.content.decode().lower()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_admin_cannot_open_an_owners_roles_dialog(as_admin, organization, owner):
    response = as_admin.get(_url("member-change", organization, owner.pk))
    assert response.status_code == 403


def test_removing_one_member_from_the_menu(as_admin, organization, viewer):
    confirm = as_admin.get(_url("member-remove", organization, viewer.pk))
    assert viewer.user.email in confirm.content.decode()
    response = as_admin.post(_url("member-remove", organization, viewer.pk), follow=True)
    assert "Removed" in " ".join(_messages(response))
    assert not Membership.objects.filter(pk=viewer.pk).exists()


def test_bulk_removal_confirms_once_and_reports_what_was_not_done(
    as_owner, organization, owner, viewer, operator
):
    selection = {"member": [str(owner.pk), str(viewer.pk), str(operator.pk)]}
    confirm = as_owner.get(_url("member-bulk-remove", organization), selection)
    assert "Remove 3 users?" in confirm.content.decode()
    assert Membership.objects.filter(pk=viewer.pk).exists()
    response = as_owner.post(
        _url("member-bulk-remove", organization), {**selection, "confirmed": "1"}, follow=True
    )
    text = " ".join(_messages(response))
    assert "Removed:" in text
    assert "Not removed:" in text
    assert "last owner" in text
    assert Membership.objects.filter(pk=owner.pk).exists()
    assert not Membership.objects.filter(pk__in=[viewer.pk, operator.pk]).exists()


def test_bulk_removal_without_selection_changes_nothing(as_owner, organization):
    count = Membership.objects.count()
    response = as_owner.post(_url("member-bulk-remove", organization), follow=True)
    assert "Select at least one member" in " ".join(_messages(response))
    assert Membership.objects.count() == count


def test_viewer_cannot_remove_members(as_viewer, organization, operator):
    response = as_viewer.post(_url("member-remove", organization, operator.pk))
    assert response.status_code == 403
    assert Membership.objects.filter(pk=operator.pk).exists()


# --- Accepting an invitation --------------------------------------------------------------


def _accept_url(invitation):
    return reverse("organizations:invitation-accept", args=[invitation.raw_token])


def test_signed_out_visitor_sees_the_organization_and_is_offered_sign_in(client, organization):
    invitation = InvitationFactory(organization=organization)
    html = client.get(_accept_url(invitation)).content.decode()
    assert organization.name in html
    assert "Sign in to accept" in html
    assert "Create account and continue" in html


def test_invitee_without_an_account_creates_it_from_the_link_and_joins(
    client, organization, folders
):
    invitation = InvitationFactory(organization=organization, email="new@example.com")
    invitation.folders.set([folders.site_b])
    response = client.post(
        _accept_url(invitation), {"name": "Nina", "password": "a-long-new-password-7"}
    )
    assert response.status_code == 302
    response = client.post(_accept_url(invitation))
    membership = Membership.objects.get(user__email="new@example.com")
    assert response.url == reverse("organizations:organization-detail", args=[organization.pk])
    assert membership.user.is_email_verified
    assert [folder.name for folder in membership.granted_folders] == ["Site B"]


def test_accepting_and_creating_an_organization_are_audited_with_the_client_address(
    client, organization
):
    person = UserFactory()
    invitation = InvitationFactory(organization=organization, email=person.email)
    client.force_login(person)
    client.post(_accept_url(invitation), REMOTE_ADDR="198.51.100.4")
    accepted = AuditEvent.objects.get(organization=organization, action="invitation.accept")
    assert accepted.client_address == "198.51.100.4"
    client.post(
        reverse("organizations:organization-create"), {"name": "Mine"}, REMOTE_ADDR="198.51.100.5"
    )
    created = AuditEvent.objects.get(action="organization.create", organization__name="Mine")
    assert created.client_address == "198.51.100.5"


def test_setup_assistant_limits_the_first_folders(client, user):
    client.force_login(user)
    names = "\n".join(f"Site {number}" for number in range(101))
    response = client.post(
        reverse("organizations:organization-create"), {"name": "Big", "folder_names": names}
    )
    assert response.status_code == 400
    assert not Organization.objects.filter(name="Big").exists()


def test_existing_account_signs_in_from_the_link_and_accepts(client, organization):
    person = UserFactory()
    invitation = InvitationFactory(organization=organization, email=person.email)
    page = client.get(_accept_url(invitation)).content.decode()
    sign_in_url = re.search(r'href="(/accounts/sign-in/\?next=[^"]+)"', page).group(1)
    response = client.post(
        sign_in_url.replace("&amp;", "&"),
        {"username": person.email, "password": PASSWORD, "next": _accept_url(invitation)},
    )
    assert response.url == _accept_url(invitation)
    response = client.post(_accept_url(invitation), follow=True)
    assert "Welcome to Acme Security." in _messages(response)
    assert Membership.objects.filter(user=person, organization=organization).exists()


def test_link_for_another_address_is_refused_with_an_explanation(client, organization, outsider):
    invitation = InvitationFactory(organization=organization, email="someone@example.com")
    client.force_login(outsider)
    response = client.post(_accept_url(invitation))
    assert response.status_code == 403
    assert "this invitation was sent to someone@example.com" in response.content.decode()
    assert not Membership.objects.filter(user=outsider).exists()


def test_revoked_link_explains_itself_and_grants_nothing(client, organization, outsider):
    invitation = InvitationFactory(
        organization=organization, email=outsider.email, state=Invitation.State.REVOKED
    )
    client.force_login(outsider)
    response = client.post(_accept_url(invitation))
    assert response.status_code == 400
    assert "withdrawn" in response.content.decode()
    assert not Membership.objects.filter(user=outsider).exists()


def test_unknown_link_is_404(client):
    response = client.get(reverse("organizations:invitation-accept", args=["nope"]))
    assert response.status_code == 404


# --- Folders ------------------------------------------------------------------------------


def test_folder_tree_shows_a_viewer_only_the_granted_subtree(as_viewer, organization):
    html = as_viewer.get(_url("folder-list", organization)).content.decode()
    assert "Building A1" in html
    assert "Room A1x" in html
    assert "Site A" not in html
    assert "Site B" not in html


def test_folder_tree_escapes_names_and_offers_each_folder_its_actions(
    as_owner, organization, folders
):
    odd = FolderFactory(parent=folders.site_b, name='<b>"Gate" & Co</b>', time_zone="Asia/Tokyo")
    html = as_owner.get(_url("folder-list", organization)).content.decode()
    assert "<b>" not in html
    assert (
        '&lt;b&gt;&quot;Gate&quot; &amp; Co&lt;/b&gt;</a> <small class="text-muted ms-1">Asia/Tokyo'
        in html
    )
    assert 'aria-label="Actions for folder &lt;b&gt;&quot;Gate&quot; &amp; Co&lt;/b&gt;"' in html
    for action in ("new", "rename", "move", "delete"):
        assert f'href="{_url("folder-detail", organization, odd.pk)}{action}/"' in html
    # The top folder can be neither moved nor deleted.
    assert f"{_url('folder-detail', organization, folders.top.pk)}move/" not in html


def test_folder_tree_page_is_a_fixed_number_of_queries(
    as_owner, organization, folders, django_assert_max_num_queries
):
    for index in range(20):
        FolderFactory(parent=folders.site_b, name=f"Room {index}")
    with django_assert_max_num_queries(10):
        response = as_owner.get(_url("folder-list", organization))
    assert response.content.decode().count(">Room ") == 21


def test_sibling_folder_of_a_grant_is_404_for_a_viewer(as_viewer, organization, folders):
    assert as_viewer.get(_url("folder-detail", organization, folders.site_b.pk)).status_code == 404
    assert (
        as_viewer.get(_url("folder-detail", organization, folders.room_a1x.pk)).status_code == 200
    )


def test_viewer_gets_403_when_creating_in_a_visible_folder(as_viewer, organization, folders):
    response = as_viewer.post(
        _url("folder-create", organization, folders.building_a1.pk), {"name": "Sneaky"}
    )
    assert response.status_code == 403
    assert not Folder.objects.filter(name="Sneaky").exists()


def test_admin_creates_renames_and_moves_a_folder(as_admin, organization, folders):
    as_admin.post(
        _url("folder-create", organization, folders.site_b.pk),
        {"name": "Gate", "time_zone": "Asia/Tokyo"},
    )
    gate = Folder.objects.get(name="Gate")
    assert (gate.parent, gate.time_zone) == (folders.site_b, "Asia/Tokyo")
    as_admin.post(_url("folder-rename", organization, gate.pk), {"name": "Main gate"})
    response = as_admin.post(
        _url("folder-move", organization, gate.pk), {"new_parent": str(folders.site_a.pk)}
    )
    assert response.status_code == 302
    gate.refresh_from_db()
    assert (gate.name, gate.parent_id) == ("Main gate", folders.site_a.pk)


def test_a_duplicate_sibling_name_is_refused(as_admin, organization, folders):
    response = as_admin.post(
        _url("folder-create", organization, folders.top.pk), {"name": "Site A"}
    )
    assert response.status_code == 409
    assert Folder.objects.filter(name="Site A").count() == 1


def test_moving_a_folder_into_its_own_subtree_is_refused(as_admin, organization, folders):
    form = as_admin.get(_url("folder-move", organization, folders.site_a.pk)).context["form"]
    offered = {value for value, _label in form.fields["new_parent"].choices}
    assert str(folders.room_a1x.pk) not in offered
    response = as_admin.post(
        _url("folder-move", organization, folders.site_a.pk),
        {"new_parent": str(folders.room_a1x.pk)},
    )
    assert response.status_code == 400
    folders.site_a.refresh_from_db()
    assert folders.site_a.parent_id == folders.top.pk


def test_deleting_a_folder_needs_the_risk_box_and_warns_about_synchronized_apps(
    as_admin, organization, folders
):
    page = as_admin.get(_url("folder-delete", organization, folders.site_b.pk)).content.decode()
    assert "On-premises applications" in page
    response = as_admin.post(_url("folder-delete", organization, folders.site_b.pk), {})
    assert response.status_code == 400
    assert Folder.objects.filter(pk=folders.site_b.pk).exists()
    response = as_admin.post(
        _url("folder-delete", organization, folders.site_b.pk), {"understood": "on"}
    )
    assert response.status_code == 302
    assert not Folder.objects.filter(pk=folders.site_b.pk).exists()


def test_a_folder_with_subfolders_is_not_deleted(as_admin, organization, folders):
    response = as_admin.post(
        _url("folder-delete", organization, folders.site_a.pk), {"understood": "on"}
    )
    assert response.status_code == 409
    assert "subfolder" in response.content.decode()
    assert Folder.objects.filter(pk=folders.site_a.pk).exists()


# --- Activity -----------------------------------------------------------------------------


def test_activity_lists_and_filters_events_for_admins(
    as_admin, organization, folders, admin, django_assert_max_num_queries
):
    services.rename_folder(actor=admin, folder_id=folders.site_b.pk, name="Depot")
    services.create_folder(actor=admin, parent_id=folders.top.pk, name="Yard")
    with django_assert_max_num_queries(12):
        response = as_admin.get(_url("audit-event-list", organization))
    html = response.content.decode()
    assert "folder.update" in html
    assert "folder.create" in html
    filtered = as_admin.get(_url("audit-event-list", organization), {"action": "folder.create"})
    assert "folder.update" not in filtered.content.decode()
    assert "folder.create" in filtered.content.decode()


def test_activity_with_reversed_dates_shows_the_error_and_no_events(as_admin, organization):
    response = as_admin.get(
        _url("audit-event-list", organization), {"since": "2030-01-02", "until": "2030-01-01"}
    )
    assert response.status_code == 200
    assert "The end comes before the start." in response.content.decode()


def test_activity_until_the_last_possible_date_is_refused_not_a_crash(as_admin, organization):
    response = as_admin.get(_url("audit-event-list", organization), {"until": "9999-12-31"})
    assert response.status_code == 200
    assert "Choose an earlier date." in response.content.decode()


def test_activity_who_filter_shows_only_that_persons_events(
    as_admin, organization, folders, admin, owner
):
    services.rename_folder(actor=admin, folder_id=folders.site_b.pk, name="Depot")
    services.create_folder(actor=owner, parent_id=folders.top.pk, name="Yard")
    response = as_admin.get(_url("audit-event-list", organization), {"actor": owner.user.email})
    events = list(response.context["page"])
    assert [event.action for event in events] == ["folder.create"]


def test_activity_who_filter_offers_support(as_admin, organization, owner):
    services.archive_organization(
        actor=owner, confirmation_id=str(organization.pk), understood=True
    )
    services.restore_organization(organization_id=organization.pk, reason="Asked by owner")
    response = as_admin.get(_url("audit-event-list", organization), {"actor": "support"})
    assert [event.action for event in response.context["page"]] == ["organization.restore"]


def test_viewer_gets_403_on_activity(as_viewer, organization):
    assert as_viewer.get(_url("audit-event-list", organization)).status_code == 403


def test_the_delete_page_warns_with_the_services_refusal(as_admin, organization, folders):
    page = as_admin.get(_url("folder-delete", organization, folders.site_a.pk)).content.decode()
    refusal = selectors.folder_deletion_refusal(folders.site_a)
    assert escape(str(refusal.message)) in page


def test_inviting_a_viewer_without_folders_shows_the_services_refusal(as_admin, organization):
    response = as_admin.post(
        _url("invitation-create", organization), {"emails": "ann@example.com", "role": "viewer"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["folders"] == [
        "Choose at least one folder for an operator or viewer."
    ]
    assert not Invitation.objects.exists()
