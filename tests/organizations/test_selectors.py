"""Reads that start from the asking member: organizations menu, membership, audit filters."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import NotFound
from organizations import selectors, services
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
        membership=owner, confirmation_id=str(organization.pk), understood=True
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
    services.create_folder(membership=admin, parent_id=folders.top.pk, name="Depot")
    services.rename_folder(membership=admin, folder_id=folders.site_b.pk, name="South")
    services.create_folder(membership=other_tenant.admin, parent_id=other_tenant.top.pk, name="X")
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
