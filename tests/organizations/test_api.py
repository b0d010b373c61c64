"""The organization API: status codes, stable error bodies, and what changed."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organizations import access, services
from organizations.models import (
    ApiToken,
    AuditEvent,
    Folder,
    Invitation,
    Membership,
    Organization,
)
from organizations.roles import Role
from tests.organizations.factories import FolderFactory, InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _url(name, organization, *args):
    return reverse(f"api:{name}", args=[organization.pk, *args])


def _error(response) -> dict:
    return response.json()["error"]


def _token(membership, name="script"):
    _token_row, raw = services.create_api_token(
        actor=membership, name=name, expires_on=timezone.localdate() + timedelta(days=30)
    )
    return raw


# --- Schema -------------------------------------------------------------------------------


def test_the_openapi_schema_generates_without_errors_or_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/organizations/{organization_id}/folders/{folder_id}/move/" in schema
    assert "apiToken" in schema


def test_the_schema_and_docs_pages_answer(client, user):
    client.force_login(user)
    assert client.get(reverse("api-schema")).status_code == 200
    assert client.get(reverse("api-docs")).status_code == 200


# --- Authentication -----------------------------------------------------------------------


def test_anonymous_calls_get_401_with_the_error_body(client, organization):
    response = client.get(_url("folder-list", organization))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert _error(response)["code"] == "not_authenticated"


def test_a_token_acts_with_the_members_current_role(api, organization, viewer, folders):
    raw = _token(viewer)
    api.use_token(raw)
    assert api.get(_url("folder-list", organization)).status_code == 200
    response = api.post(
        _url("folder-list", organization), {"parent_id": str(folders.building_a1.pk), "name": "X"}
    )
    assert response.status_code == 403
    admin = MembershipFactory(organization=organization, role=Role.OWNER)
    services.change_member(actor=admin, member_id=viewer.pk, role=Role.ADMIN, folder_ids=[])
    response = api.post(
        _url("folder-list", organization), {"parent_id": str(folders.building_a1.pk), "name": "X"}
    )
    assert response.status_code == 201


def test_changes_through_a_token_are_audited_with_the_token_and_address(
    api, admin, organization, folders
):
    raw = _token(admin)
    api.use_token(raw)
    response = api.client.post(
        _url("folder-list", organization),
        {"parent_id": str(folders.top.pk), "name": "Gate"},
        content_type="application/json",
        headers=api.headers,
        REMOTE_ADDR="198.51.100.9",
    )
    assert response.status_code == 201
    event = AuditEvent.objects.filter(organization=organization).order_by("-sequence").first()
    assert event.action == "folder.create"
    assert event.actor_token.prefix == raw.partition("_")[0]
    assert event.client_address == "198.51.100.9"


def test_a_session_without_a_second_factor_is_403_when_the_organization_requires_mfa(
    api, viewer, organization
):
    organization.requires_mfa = True
    organization.save()
    response = api.login(viewer).get(_url("folder-list", organization))
    assert response.status_code == 403
    assert _error(response)["code"] == "mfa_required"


def test_a_token_stops_working_when_the_organization_is_archived(api, organization, owner):
    raw = _token(owner)
    services.archive_organization(
        actor=owner, confirmation_id=str(organization.pk), understood=True
    )
    response = api.use_token(raw).get(_url("organization-detail", organization))
    assert response.status_code == 401


def test_a_token_lists_only_its_own_organization_and_cannot_create_one(api, owner, organization):
    MembershipFactory(user=owner.user, role=Role.OWNER)
    api.use_token(_token(owner))
    listing = api.get(reverse("api:organization-list")).json()
    assert [item["id"] for item in listing["results"]] == [str(organization.pk)]
    response = api.post(reverse("api:organization-list"), {"name": "New"})
    assert response.status_code == 403
    assert _error(response)["code"] == "token_scope"


# --- Organizations ------------------------------------------------------------------------


def test_listing_organizations_shows_only_the_callers_in_few_queries(
    api, owner, organization, other_organization, django_assert_max_num_queries
):
    for _index in range(5):
        MembershipFactory(user=owner.user, role=Role.VIEWER)
    api.login(owner)
    with django_assert_max_num_queries(6):
        response = api.get(reverse("api:organization-list"))
    body = response.json()
    assert body["count"] == 6
    assert str(other_organization.pk) not in {item["id"] for item in body["results"]}
    assert {"id", "name", "role", "requires_mfa"} <= set(body["results"][0])


def test_creating_an_organization_makes_the_caller_owner(api, user):
    api.client.force_login(user)
    response = api.post(
        reverse("api:organization-list"), {"name": "Depot", "folder_names": ["North", "South"]}
    )
    assert response.status_code == 201
    assert response.json()["role"] == Role.OWNER
    organization = Organization.objects.get(pk=response.json()["id"])
    assert Folder.objects.filter(organization=organization).count() == 3


def test_creating_an_organization_without_a_name_changes_nothing(api, user):
    api.client.force_login(user)
    response = api.post(reverse("api:organization-list"), {"name": ""})
    assert response.status_code == 400
    assert "name" in _error(response)["fields"]
    assert not Organization.objects.exists()


def test_admin_renames_the_organization(api, admin, organization):
    response = api.login(admin).patch(
        _url("organization-detail", organization), {"name": "Acme West"}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Acme West"


def test_admin_cannot_change_the_invitation_policy(api, admin, organization):
    response = api.login(admin).patch(
        _url("organization-detail", organization), {"allow_elevated_invitations": True}
    )
    assert response.status_code == 403
    organization.refresh_from_db()
    assert not organization.allow_elevated_invitations


def test_viewer_gets_403_with_the_role_in_the_message(api, viewer, organization):
    response = api.login(viewer).patch(_url("organization-detail", organization), {"name": "Mine"})
    assert response.status_code == 403
    assert _error(response)["code"] == "role_not_allowed"
    assert "Viewer" in _error(response)["message"]


def test_archiving_needs_the_exact_id(api, owner, organization):
    response = api.login(owner).post(
        _url("organization-archive", organization),
        {"confirmation_id": "wrong", "understood": True},
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "confirmation_mismatch"
    assert api.get(_url("organization-detail", organization)).status_code == 200


def test_owner_archives_and_the_organization_answers_404(api, owner, organization):
    response = api.login(owner).post(
        _url("organization-archive", organization),
        {"confirmation_id": str(organization.pk), "understood": True},
    )
    assert response.status_code == 204
    assert api.get(_url("organization-detail", organization)).status_code == 404


# --- Members ------------------------------------------------------------------------------


def test_member_list_carries_roles_and_folders_in_few_queries(
    api, viewer, organization, folders, django_assert_max_num_queries
):
    for _index in range(5):
        MembershipFactory(organization=organization, role=Role.VIEWER, folders=[folders.site_b])
    api.login(viewer)
    with django_assert_max_num_queries(8):
        response = api.get(_url("member-list", organization))
    rows = {row["id"]: row for row in response.json()["results"]}
    assert response.json()["count"] == 9
    assert rows[str(viewer.pk)]["folder_ids"] == [str(folders.building_a1.pk)]
    assert rows[str(viewer.pk)]["user"]["email"] == viewer.user.email


def test_reading_one_member(api, admin, operator, organization, folders):
    response = api.login(admin).get(_url("member-detail", organization, operator.pk))
    assert response.status_code == 200
    assert response.json()["role"] == Role.OPERATOR
    assert response.json()["folder_ids"] == [str(folders.site_a.pk)]


def test_a_viewer_reading_members_learns_no_folder_outside_their_grants(
    api, viewer, operator, organization, folders
):
    # The operator's Site A is above the viewer's Building A1: it does not exist for the viewer.
    api.login(viewer)
    response = api.get(_url("member-detail", organization, operator.pk))
    assert response.status_code == 200
    assert response.json()["folder_ids"] == []
    rows = {row["id"]: row for row in api.get(_url("member-list", organization)).json()["results"]}
    assert rows[str(operator.pk)]["folder_ids"] == []
    assert rows[str(viewer.pk)]["folder_ids"] == [str(folders.building_a1.pk)]


def test_admin_changes_a_members_role_and_folders(api, admin, viewer, organization, folders):
    response = api.login(admin).patch(
        _url("member-detail", organization, viewer.pk),
        {"role": Role.OPERATOR, "folder_ids": [str(folders.site_b.pk)]},
    )
    assert response.status_code == 200
    assert response.json()["role"] == Role.OPERATOR
    assert response.json()["folder_ids"] == [str(folders.site_b.pk)]


def test_demoting_the_last_owner_is_409(api, owner, organization):
    response = api.login(owner).patch(
        _url("member-detail", organization, owner.pk), {"role": Role.ADMIN}
    )
    assert response.status_code == 409
    assert _error(response)["code"] == "last_owner"


def test_removing_a_member_and_refusing_the_last_owner(api, owner, viewer, organization):
    api.login(owner)
    assert api.delete(_url("member-detail", organization, viewer.pk)).status_code == 204
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    response = api.delete(_url("member-detail", organization, owner.pk))
    assert response.status_code == 409
    assert "last owner" in _error(response)["message"]


def test_admin_may_not_remove_an_owner(api, admin, owner, organization):
    response = api.login(admin).delete(_url("member-detail", organization, owner.pk))
    assert response.status_code == 403
    assert _error(response)["code"] == "owner_protected"
    assert "owner" in _error(response)["message"]
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_changing_only_the_role_keeps_the_members_folders(
    api, admin, viewer, organization, folders
):
    response = api.login(admin).patch(
        _url("member-detail", organization, viewer.pk), {"role": Role.OPERATOR}
    )
    assert response.status_code == 200
    assert response.json()["folder_ids"] == [str(folders.building_a1.pk)]
    member = Membership.objects.get(pk=viewer.pk)
    assert set(access.operable_folders(member)) == {folders.building_a1, folders.room_a1x}
    # An explicit empty list means "no folders", which an operator or viewer may not have.
    response = api.patch(
        _url("member-detail", organization, viewer.pk), {"role": Role.VIEWER, "folder_ids": []}
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "folders_required"
    assert set(access.operable_folders(Membership.objects.get(pk=viewer.pk))) == {
        folders.building_a1,
        folders.room_a1x,
    }


def test_a_refused_settings_change_changes_nothing(api, admin, organization):
    response = api.login(admin).patch(
        _url("organization-detail", organization),
        {"name": "Renamed", "allow_elevated_invitations": True},
    )
    assert response.status_code == 403
    assert _error(response)["code"] == "owner_only_policy"
    organization.refresh_from_db()
    assert organization.name == "Acme Security"
    assert not organization.allow_elevated_invitations
    assert not AuditEvent.objects.filter(action="organization.update").exists()


def test_an_overlong_address_is_400_and_invites_nobody(api, admin, organization, folders):
    address = f"{'a' * 64}@{'b' * 60}.{'c' * 60}.{'d' * 60}.{'e' * 60}.com"  # 312 characters
    response = api.login(admin).post(
        _url("invitation-list", organization),
        {"emails": [address], "folder_ids": [str(folders.site_a.pk)]},
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_creating_an_organization_records_the_client_address(api, user):
    api.client.force_login(user)
    response = api.client.post(
        reverse("api:organization-list"),
        {"name": "Remote"},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(action="organization.create")
    assert event.client_address == "203.0.113.9"


# --- Invitations --------------------------------------------------------------------------


def test_admin_invites_several_viewers(api, admin, organization, folders):
    response = api.login(admin).post(
        _url("invitation-list", organization),
        {
            "emails": ["a@example.com", "b@example.com"],
            "role": Role.VIEWER,
            "folder_ids": [str(folders.site_a.pk)],
        },
    )
    assert response.status_code == 201
    assert {row["email"] for row in response.json()} == {"a@example.com", "b@example.com"}
    assert response.json()[0]["state"] == "pending"
    listing = api.get(_url("invitation-list", organization)).json()
    assert listing["count"] == 2


def test_a_viewer_invitation_without_folders_is_400_like_on_the_page(api, admin, organization):
    response = api.login(admin).post(
        _url("invitation-list", organization), {"emails": ["a@example.com"]}
    )
    assert response.status_code == 400
    assert "folder_ids" in _error(response)["fields"]
    assert not Invitation.objects.exists()


def test_an_operator_invitation_under_the_viewer_only_policy_is_403(
    api, admin, organization, folders
):
    response = api.login(admin).post(
        _url("invitation-list", organization),
        {"emails": ["a@example.com"], "role": Role.OPERATOR, "folder_ids": [str(folders.top.pk)]},
    )
    assert response.status_code == 403
    assert _error(response)["code"] == "viewer_only"
    assert not Invitation.objects.exists()


def test_a_bad_address_is_400_and_invites_nobody(api, admin, organization, folders):
    response = api.login(admin).post(
        _url("invitation-list", organization),
        {"emails": ["a@example.com", "nope"], "folder_ids": [str(folders.top.pk)]},
    )
    assert response.status_code == 400
    assert "emails" in _error(response)["fields"]
    assert not Invitation.objects.exists()


def test_viewer_cannot_list_invitations(api, viewer, organization):
    assert api.login(viewer).get(_url("invitation-list", organization)).status_code == 403


def test_revoking_an_invitation(api, admin, organization):
    invitation = InvitationFactory(organization=organization)
    response = api.login(admin).delete(_url("invitation-detail", organization, invitation.pk))
    assert response.status_code == 204
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED


# --- Folders ------------------------------------------------------------------------------


def test_viewer_lists_only_the_granted_subtree(api, viewer, organization, folders):
    body = api.login(viewer).get(_url("folder-list", organization)).json()
    assert [row["name"] for row in body["results"]] == ["Building A1", "Room A1x"]


def test_folder_list_is_a_fixed_number_of_queries(
    api, owner, organization, folders, django_assert_max_num_queries
):
    for index in range(30):
        FolderFactory(parent=folders.site_b, name=f"Room {index}")
    api.login(owner)
    with django_assert_max_num_queries(6):
        response = api.get(_url("folder-list", organization))
    assert response.json()["count"] == 35


def test_reading_a_visible_folder(api, viewer, organization, folders):
    response = api.login(viewer).get(_url("folder-detail", organization, folders.room_a1x.pk))
    assert response.status_code == 200
    assert response.json()["parent_id"] == str(folders.building_a1.pk)
    assert response.json()["name"] == "Room A1x"


def test_admin_creates_renames_moves_and_deletes_a_folder(api, admin, organization, folders):
    api.login(admin)
    created = api.post(
        _url("folder-list", organization), {"parent_id": str(folders.site_b.pk), "name": "Gate"}
    )
    assert created.status_code == 201
    folder_id = created.json()["id"]
    renamed = api.patch(_url("folder-detail", organization, folder_id), {"time_zone": "Asia/Tokyo"})
    assert renamed.json()["time_zone"] == "Asia/Tokyo"
    moved = api.post(
        _url("folder-move", organization, folder_id), {"new_parent_id": str(folders.site_a.pk)}
    )
    assert moved.json()["parent_id"] == str(folders.site_a.pk)
    refused = api.delete(_url("folder-detail", organization, folder_id), "?understood=false")
    assert refused.status_code == 400
    deleted = api.delete(_url("folder-detail", organization, folder_id), "?understood=true")
    assert deleted.status_code == 204
    assert not Folder.objects.filter(pk=folder_id).exists()


def test_moving_a_folder_into_its_subtree_is_400(api, admin, organization, folders):
    response = api.login(admin).post(
        _url("folder-move", organization, folders.site_a.pk),
        {"new_parent_id": str(folders.room_a1x.pk)},
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "move_into_subtree"


def test_deleting_a_folder_with_subfolders_is_409(api, admin, organization, folders):
    response = api.login(admin).delete(
        _url("folder-detail", organization, folders.site_a.pk), "?understood=true"
    )
    assert response.status_code == 409
    assert _error(response)["code"] == "folder_has_subfolders"


def test_viewer_gets_403_renaming_a_visible_folder(api, viewer, organization, folders):
    response = api.login(viewer).patch(
        _url("folder-detail", organization, folders.building_a1.pk), {"name": "Mine"}
    )
    assert response.status_code == 403
    folders.building_a1.refresh_from_db()
    assert folders.building_a1.name == "Building A1"


# --- Audit events and API tokens ----------------------------------------------------------


def test_admin_reads_and_filters_audit_events(
    api, admin, organization, folders, django_assert_max_num_queries
):
    services.create_folder(actor=admin, parent_id=folders.top.pk, name="Yard")
    services.rename_folder(actor=admin, folder_id=folders.site_b.pk, name="Depot")
    api.login(admin)
    with django_assert_max_num_queries(6):
        response = api.get(_url("audit-event-list", organization), {"action": "folder."})
    actions = [row["action"] for row in response.json()["results"]]
    assert actions == ["folder.update", "folder.create"]
    assert response.json()["results"][0]["actor"] == admin.user.email


def test_viewer_cannot_read_audit_events(api, viewer, organization):
    response = api.login(viewer).get(_url("audit-event-list", organization))
    assert response.status_code == 403


def test_a_bad_audit_filter_is_400(api, admin, organization):
    response = api.login(admin).get(_url("audit-event-list", organization), {"since": "soon"})
    assert response.status_code == 400
    assert "since" in _error(response)["fields"]


def test_creating_a_token_shows_the_secret_once(api, viewer, organization):
    api.login(viewer)
    expires_on = (timezone.localdate() + timedelta(days=10)).isoformat()
    created = api.post(_url("token-list", organization), {"name": "ci", "expires_on": expires_on})
    assert created.status_code == 201
    secret = created.json()["token"]
    listing = api.get(_url("token-list", organization)).json()
    assert listing["count"] == 1
    assert "token" not in listing["results"][0]
    assert secret.startswith(listing["results"][0]["prefix"])


def test_a_token_cannot_create_another_token(api, viewer, organization):
    expires_on = (timezone.localdate() + timedelta(days=300)).isoformat()
    api.use_token(_token(viewer))
    response = api.post(
        _url("token-list", organization), {"name": "copy", "expires_on": expires_on}
    )
    assert response.status_code == 403
    assert _error(response)["code"] == "token_scope"
    assert ApiToken.objects.count() == 1


def test_revoking_a_token_stops_it(api, viewer, organization):
    raw = _token(viewer)
    token_id = api.login(viewer).get(_url("token-list", organization)).json()["results"][0]["id"]
    assert api.delete(_url("token-detail", organization, token_id)).status_code == 204
    assert api.use_token(raw).get(_url("folder-list", organization)).status_code == 401


def test_a_viewer_cannot_revoke_another_members_token(api, viewer, owner, organization):
    _token(owner)
    token_id = api.login(owner).get(_url("token-list", organization)).json()["results"][0]["id"]
    response = api.login(viewer).delete(_url("token-detail", organization, token_id))
    assert response.status_code == 404


def test_a_viewer_does_not_learn_the_id_of_the_parent_above_their_grant(
    api, viewer, admin, organization, folders
):
    api.login(viewer)
    rows = {row["id"]: row for row in api.get(_url("folder-list", organization)).json()["results"]}
    assert set(rows) == {str(folders.building_a1.pk), str(folders.room_a1x.pk)}
    assert rows[str(folders.building_a1.pk)]["parent_id"] is None
    assert rows[str(folders.room_a1x.pk)]["parent_id"] == str(folders.building_a1.pk)
    detail = api.get(_url("folder-detail", organization, folders.building_a1.pk)).json()
    assert detail["parent_id"] is None
    api.login(admin)
    detail = api.get(_url("folder-detail", organization, folders.building_a1.pk)).json()
    assert detail["parent_id"] == str(folders.site_a.pk)


# --- Concurrent edits ---------------------------------------------------------------------


def _locks_awaited() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _patch_together(organization, member, requests) -> list:
    """Send PATCHes in threads (own connections) that all read before any of them writes.

    The organization row is held locked while the requests start, so each reads the rows it
    needs and then waits for the lock every write takes; releasing it lets them write in turn.
    """
    responses: list = [None] * len(requests)

    def send(index, url, body):
        try:
            client = Client()
            client.force_login(member.user)
            responses[index] = client.patch(url, body, content_type="application/json")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(index, url, body))
        for index, (url, body) in enumerate(requests)
    ]
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _locks_awaited() < len(requests) and time.monotonic() < deadline:
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=30)
    return responses


@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_of_different_organization_fields_both_survive(admin, organization):
    url = _url("organization-detail", organization)
    responses = _patch_together(
        organization, admin, [(url, {"name": "Acme Renamed"}), (url, {"notes": "Night shift"})]
    )
    assert [response.status_code for response in responses] == [200, 200]
    organization.refresh_from_db()
    assert (organization.name, organization.notes) == ("Acme Renamed", "Night shift")


@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_of_different_folder_fields_both_survive(admin, organization, folders):
    url = _url("folder-detail", organization, folders.site_b.pk)
    responses = _patch_together(
        organization, admin, [(url, {"name": "Depot"}), (url, {"time_zone": "Asia/Tokyo"})]
    )
    assert [response.status_code for response in responses] == [200, 200]
    folders.site_b.refresh_from_db()
    assert (folders.site_b.name, folders.site_b.time_zone) == ("Depot", "Asia/Tokyo")


# --- The organization API base ------------------------------------------------------------


def test_member_detail_loads_the_member_once_per_request(
    api, admin, viewer, organization, folders, django_assert_max_num_queries
):
    api.login(admin)
    with django_assert_max_num_queries(5):
        assert api.get(_url("member-detail", organization, viewer.pk)).status_code == 200
    # The member is read by the base and, under the locks, by the service: not four times.
    with django_assert_max_num_queries(25):
        response = api.patch(
            _url("member-detail", organization, viewer.pk),
            {"role": Role.VIEWER, "folder_ids": [str(folders.site_b.pk)]},
        )
    assert response.json()["folder_ids"] == [str(folders.site_b.pk)]


def test_folder_detail_loads_the_folder_once_per_request(
    api, admin, organization, folders, django_assert_max_num_queries
):
    api.login(admin)
    with django_assert_max_num_queries(4):
        assert api.get(_url("folder-detail", organization, folders.site_b.pk)).status_code == 200
    with django_assert_max_num_queries(14):
        response = api.patch(_url("folder-detail", organization, folders.site_b.pk), {"name": "D"})
    assert response.json()["name"] == "D"


def test_an_api_view_must_declare_the_action_of_each_method():
    from django.core.exceptions import ImproperlyConfigured

    from organizations.api.base import OrganizationAPIView

    with pytest.raises(ImproperlyConfigured, match="DELETE"):

        class Undeclared(OrganizationAPIView):
            required_actions = {"GET": "organization.view"}

            def get(self, request, organization_id): ...

            def delete(self, request, organization_id): ...


def test_the_action_is_checked_after_the_object_is_found(api, viewer, organization, folders):
    api.login(viewer)
    # Outside the viewer's grants the folder does not exist (404); inside, renaming is 403.
    outside = api.patch(_url("folder-detail", organization, folders.site_b.pk), {"name": "X"})
    inside = api.patch(_url("folder-detail", organization, folders.building_a1.pk), {"name": "X"})
    assert (outside.status_code, inside.status_code) == (404, 403)
    assert _error(inside)["code"] == "role_not_allowed"
