"""Small things people see on the organization pages: names, time zones, feedback in place."""

import pytest
from django.urls import reverse

from organizations import services
from organizations.forms import AuditFilterForm, FolderNameForm
from organizations.models import Invitation
from tests.organizations.factories import InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _url(name, organization, *args):
    return reverse(f"organizations:{name}", args=[organization.pk, *args])


def test_revoking_an_invitation_in_place_keeps_the_row_marked_revoked(client, admin, organization):
    client.force_login(admin.user)
    invitation = InvitationFactory(organization=organization, email="ann@example.com")
    response = client.post(
        _url("invitation-revoke", organization, invitation.pk), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="invitation-{invitation.pk}"' in html
    assert "Revoked" in html
    assert "ann@example.com" in html
    assert "<form" not in html
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED


def test_pending_invitations_ask_before_revoking(client, admin, organization):
    client.force_login(admin.user)
    InvitationFactory(organization=organization, email="ann@example.com")
    response = client.get(_url("member-list", organization))
    assert "Revoke the invitation for ann@example.com? Its link stops working." in (
        response.content.decode()
    )


def test_the_remove_page_names_the_member_once_by_name_and_address(
    client, admin, organization, viewer
):
    viewer.user.name = "Vera Viewer"
    viewer.user.save(update_fields=["name"])
    client.force_login(admin.user)
    response = client.get(_url("member-remove", organization, viewer.pk))
    assert f"Vera Viewer ({viewer.user.email})" in response.content.decode()
    assert f"{viewer.user.email} ({viewer.user.email})" not in response.content.decode()


def test_the_activity_filter_lists_members_by_name_and_address(organization, admin, viewer):
    viewer.user.name = "Vera Viewer"
    viewer.user.save(update_fields=["name"])
    admin.user.name = ""
    admin.user.save(update_fields=["name"])
    choices = dict(AuditFilterForm(members=[admin, viewer]).fields["actor"].choices)
    assert choices[viewer.user.email] == f"Vera Viewer ({viewer.user.email})"
    assert choices[admin.user.email] == admin.user.email


def test_a_folder_shows_the_time_zone_it_inherits(client, owner, organization, folders):
    folders.site_a.time_zone = "Asia/Tokyo"
    folders.site_a.save(update_fields=["time_zone"])
    client.force_login(owner.user)
    own = client.get(_url("folder-detail", organization, folders.site_a.pk)).content.decode()
    inherited = client.get(
        _url("folder-detail", organization, folders.building_a1.pk)
    ).content.decode()
    unset = client.get(_url("folder-detail", organization, folders.site_b.pk)).content.decode()
    assert "Time zone: Asia/Tokyo<" in own
    assert "Time zone: Asia/Tokyo (from a parent folder)" in inherited
    assert "Time zone: not set" in unset


def test_a_folder_indents_its_subfolders_from_itself(client, owner, organization, folders):
    client.force_login(owner.user)
    html = client.get(_url("folder-detail", organization, folders.site_a.pk)).content.decode()
    # Building A1 is a direct child of Site A: no extra indent for Site A's own depth.
    assert 'style="padding-left: 0.5rem"><a href="' in html


def test_folder_time_zones_leave_out_entries_that_are_not_places():
    values = {value for value, _label in FolderNameForm().fields["time_zone"].choices}
    assert "Asia/Tokyo" in values
    assert "localtime" not in values
    assert "Factory" not in values


def test_the_move_page_says_where_the_folder_is_and_preselects_no_destination(
    client, owner, organization, folders
):
    client.force_login(owner.user)
    response = client.get(_url("folder-move", organization, folders.building_a1.pk))
    html = response.content.decode()
    assert "It is now in Site A." in html
    assert '<option value="" selected>Choose a folder…</option>' in html
    refused = client.post(_url("folder-move", organization, folders.building_a1.pk), {})
    assert refused.status_code == 400
    folders.building_a1.refresh_from_db()
    assert folders.building_a1.parent_id == folders.site_a.pk


def test_the_delete_page_says_up_front_that_a_folder_with_subfolders_stays(
    client, owner, organization, folders
):
    client.force_login(owner.user)
    blocked = client.get(_url("folder-delete", organization, folders.site_a.pk))
    assert blocked.status_code == 200
    assert "“Site A” has subfolders. Move or delete them first." in blocked.content.decode()
    empty = client.get(_url("folder-delete", organization, folders.site_b.pk)).content.decode()
    assert "has subfolders" not in empty
    assert 'role="alert">“' not in empty


def test_the_activity_page_names_each_action_in_words_beside_its_code(
    client, owner, organization, folders
):
    services.create_folder(actor=owner, parent_id=folders.site_b.pk, name="Lobby")
    client.force_login(owner.user)
    html = client.get(_url("audit-event-list", organization)).content.decode()
    assert "Folder created" in html
    assert "<code" in html
    assert "folder.create" in html


def test_a_new_organizations_folder_page_says_how_to_add_folders(client):
    owner = MembershipFactory(role="owner")
    client.force_login(owner.user)
    html = client.get(_url("folder-list", owner.organization)).content.decode()
    assert "Only the top folder so far." in html
