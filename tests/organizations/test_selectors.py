"""Reads that start from the asking member: organizations menu, membership, audit filters."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import NotFound
from organizations import audit, selectors, services
from tests.organizations.factories import MembershipFactory, OrganizationFactory


def test_organization_menu_lists_active_memberships_by_name(viewer, owner, organization):
    person = viewer.user
    zeta = OrganizationFactory(name="Zeta")
    alpha = OrganizationFactory(name="Aardvark Alarms")
    archived = OrganizationFactory(name="Beta", archived_at=timezone.now())
    for other in (zeta, alpha, archived):
        MembershipFactory(organization=other, user=person)
    OrganizationFactory(name="Not mine")
    assert list(selectors.member_organizations(person)) == [alpha, organization, zeta]


def test_get_membership_resolves_the_member_of_the_url_organization(viewer, organization):
    assert selectors.get_membership(viewer.user, organization.pk) == viewer


@pytest.mark.parametrize("who", ["outsider", "other_member"])
def test_get_membership_is_not_found_for_non_members(who, outsider, organization, other_tenant):
    user = outsider if who == "outsider" else other_tenant.owner.user
    with pytest.raises(NotFound):
        selectors.get_membership(user, organization.pk)


def test_get_membership_is_not_found_for_an_archived_organization(owner, organization):
    services.archive_organization(
        actor=owner, confirmation_id=str(organization.pk), understood=True
    )
    with pytest.raises(NotFound):
        selectors.get_membership(owner.user, organization.pk)


def test_get_membership_is_not_found_for_a_malformed_id(viewer):
    with pytest.raises(NotFound):
        selectors.get_membership(viewer.user, "not-a-uuid")


def test_folder_of_another_organization_is_not_found(admin, other_tenant):
    with pytest.raises(NotFound):
        selectors.get_visible_folder(admin, other_tenant.site_a.pk)


def test_folder_outside_a_viewers_grants_is_not_found(viewer, folders):
    assert selectors.get_visible_folder(viewer, folders.room_a1x.pk) == folders.room_a1x
    with pytest.raises(NotFound):
        selectors.get_visible_folder(viewer, folders.site_b.pk)


def test_member_of_another_organization_is_not_found(admin, other_tenant):
    with pytest.raises(NotFound):
        selectors.get_member(admin, other_tenant.admin.pk)
    with pytest.raises(NotFound):
        selectors.get_member(admin, uuid.uuid4())


@pytest.fixture
def history(admin, folders, other_tenant):
    services.create_folder(actor=admin, parent_id=folders.top.pk, name="Depot")
    services.rename_folder(actor=admin, folder_id=folders.site_b.pk, name="South")
    services.create_folder(actor=other_tenant.admin, parent_id=other_tenant.top.pk, name="X")
    return admin


def test_audit_events_are_the_organizations_own_newest_first(history):
    actions = [e.action for e in selectors.audit_events(history)]
    assert actions == ["folder.update", "folder.create"]


def test_audit_events_filter_by_action_actor_and_time(history, owner):
    assert [e.action for e in selectors.audit_events(history, action="folder.create")] == [
        "folder.create"
    ]
    assert selectors.audit_events(history, action="folder.").count() == 2
    assert selectors.audit_events(history, actor=history.user.email[:8]).count() == 2
    assert selectors.audit_events(history, actor=owner.user.email).count() == 0
    hour_ago = timezone.now() - timedelta(hours=1)
    assert selectors.audit_events(history, since=hour_ago).count() == 2
    assert selectors.audit_events(history, until=hour_ago).count() == 0


def test_members_without_audit_access_see_no_events(history, viewer):
    assert selectors.audit_events(viewer).count() == 0


def test_audit_actor_filter_by_e_mail_is_exact_and_includes_their_tokens(
    history, organization, folders
):
    lookalike = MembershipFactory(organization=organization, role="admin")
    lookalike.user.email = f"x{history.user.email}"  # contains the admin's address
    lookalike.user.save(update_fields=["email"])
    services.create_folder(actor=lookalike, parent_id=folders.top.pk, name="Lookalike's")
    assert selectors.audit_events(history, actor=history.user.email).count() == 2
    assert selectors.audit_events(history, actor=lookalike.user.email).count() == 1
    token, _raw = services.create_api_token(
        actor=history, name="ci", expires_on=timezone.localdate() + timedelta(days=5)
    )
    with audit.request_context(api_token=token):
        services.create_folder(actor=history, parent_id=folders.top.pk, name="By token")
    # folder.create twice, folder.update, api_token.create, and the token's folder.create
    assert selectors.audit_events(history, actor=history.user.email).count() == 4


def test_audit_action_filter_takes_a_group_without_the_dot(history):
    assert selectors.audit_events(history, action="folder").count() == 2
    assert selectors.audit_events(history, action="fold").count() == 0


def test_member_list_leaves_out_grants_on_folders_the_asker_cannot_see(
    viewer, operator, admin, folders
):
    # The operator holds Site A; the viewer sees only Building A1 (below Site A) and its room.
    services.change_member(
        actor=admin,
        member_id=operator.pk,
        role="operator",
        folder_ids=[folders.site_a.pk, folders.room_a1x.pk, folders.site_b.pk],
    )
    seen_by_viewer = {m.pk: m for m in selectors.members(viewer)}
    assert seen_by_viewer[operator.pk].granted_folders == [folders.room_a1x]
    assert seen_by_viewer[viewer.pk].granted_folders == [folders.building_a1]
    seen_by_admin = {m.pk: m for m in selectors.members(admin)}
    assert set(seen_by_admin[operator.pk].granted_folders) == {
        folders.site_a,
        folders.room_a1x,
        folders.site_b,
    }
    assert selectors.get_member(viewer, operator.pk).granted_folders == [folders.room_a1x]
