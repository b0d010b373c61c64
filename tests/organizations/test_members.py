"""Changing roles and folder access, removing members, and the last-owner rule under concurrency."""

from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import Conflict, DomainError, Forbidden, Invalid
from organizations import access, selectors, services
from organizations.models import ApiToken, Membership
from organizations.roles import Role
from tests.organizations.factories import MembershipFactory, OrganizationFactory


def test_changing_a_role_and_folders_takes_effect_at_once(admin, viewer, folders):
    services.change_member(
        actor=admin, member_id=viewer.pk, role=Role.OPERATOR, folder_ids=[folders.site_b.pk]
    )
    member = Membership.objects.get(pk=viewer.pk)
    assert member.role == Role.OPERATOR
    assert set(access.visible_folders(member)) == {folders.site_b}
    assert set(access.operable_folders(member)) == {folders.site_b}


def test_promoting_to_admin_drops_folder_grants(admin, viewer, organization):
    member = services.change_member(actor=admin, member_id=viewer.pk, role=Role.ADMIN)
    assert member.granted_folders == []
    assert access.visible_folders(member).count() == 5


def test_admin_cannot_change_an_owner(admin, owner):
    with pytest.raises(Forbidden) as refused:
        services.change_member(actor=admin, member_id=owner.pk, role=Role.ADMIN)
    assert refused.value.code == "owner_protected"


def test_nobody_gives_a_role_above_their_own(admin, viewer):
    with pytest.raises(Forbidden) as refused:
        services.change_member(actor=admin, member_id=viewer.pk, role=Role.OWNER)
    assert refused.value.code == "role_above_own"


def test_owner_makes_another_owner(owner, admin):
    member = services.change_member(actor=owner, member_id=admin.pk, role=Role.OWNER)
    assert member.role == Role.OWNER


def test_demoting_the_last_owner_is_refused(owner):
    with pytest.raises(Conflict) as refused:
        services.change_member(actor=owner, member_id=owner.pk, role=Role.ADMIN)
    assert refused.value.code == "last_owner"
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_owner_can_step_down_when_another_owner_remains(owner, admin):
    services.change_member(actor=owner, member_id=admin.pk, role=Role.OWNER)
    services.change_member(actor=owner, member_id=owner.pk, role=Role.ADMIN)
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN


def test_member_of_another_organization_is_not_found(admin, other_tenant):
    with pytest.raises(DomainError) as refused:
        services.change_member(actor=admin, member_id=other_tenant.viewer.pk, role="viewer")
    assert refused.value.code == "member_not_found"


def test_operator_cannot_change_members(operator, viewer):
    with pytest.raises(Forbidden):
        services.change_member(actor=operator, member_id=viewer.pk, role=Role.VIEWER)


def test_removing_members_also_removes_their_grants_and_api_tokens(admin, viewer, operator):
    services.create_api_token(
        actor=viewer, name="script", expires_on=timezone.localdate() + timedelta(days=30)
    )
    result = services.remove_members(actor=admin, member_ids=[viewer.pk, operator.pk])
    assert {m.pk for m in result.removed} == {viewer.pk, operator.pk}
    assert result.refused == []
    assert not Membership.objects.filter(pk__in=[viewer.pk, operator.pk]).exists()
    assert not ApiToken.objects.filter(membership_id=viewer.pk).exists()
    assert not viewer.user.folderuserobjectpermission_set.exists()


def test_bulk_removal_never_removes_the_last_owner_and_says_so(owner, viewer):
    result = services.remove_members(actor=owner, member_ids=[owner.pk, viewer.pk])
    assert [m.pk for m in result.removed] == [viewer.pk]
    [(refused, reason)] = result.refused
    assert refused.pk == owner.pk
    assert "last owner" in reason
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_admin_removing_an_owner_is_refused_in_the_result(admin, owner):
    result = services.remove_members(actor=admin, member_ids=[owner.pk])
    assert result.removed == []
    assert "Only an owner" in result.refused[0][1]


def test_removing_an_unknown_member_is_reported(admin, other_tenant):
    result = services.remove_members(actor=admin, member_ids=[other_tenant.viewer.pk])
    assert result.removed == []
    assert result.refused == [(other_tenant.viewer.pk, "Member not found.")]
    assert Membership.objects.filter(pk=other_tenant.viewer.pk).exists()


def test_members_come_with_their_granted_folders_without_n_plus_1(
    admin, folders, django_assert_num_queries
):
    for _ in range(5):
        MembershipFactory(organization=folders.organization, folders=[folders.site_b])
    with django_assert_num_queries(2):
        listed = {m.pk: m.granted_folders for m in selectors.members(admin)}
    assert listed[folders.viewer.pk] == [folders.building_a1]
    assert listed[folders.owner.pk] == []


@pytest.mark.django_db(transaction=True)
def test_two_owners_stepping_down_at_once_leave_one_owner(race):
    organization = OrganizationFactory()
    first = MembershipFactory(organization=organization, role=Role.OWNER)
    second = MembershipFactory(organization=organization, role=Role.OWNER)
    outcomes = race(
        lambda: services.change_member(actor=first, member_id=first.pk, role=Role.ADMIN),
        lambda: services.change_member(actor=second, member_id=second.pk, role=Role.ADMIN),
    )
    succeeded = [o for o in outcomes if isinstance(o, Membership)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(succeeded) == 1, outcomes
    assert [error.code for error in refused] == ["last_owner"], outcomes
    assert Membership.objects.filter(organization=organization, role=Role.OWNER).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_owners_removing_each_other_at_once_leave_one_owner(race):
    organization = OrganizationFactory()
    first = MembershipFactory(organization=organization, role=Role.OWNER)
    second = MembershipFactory(organization=organization, role=Role.OWNER)
    outcomes = race(
        lambda: services.remove_members(actor=first, member_ids=[second.pk]),
        lambda: services.remove_members(actor=second, member_ids=[first.pk]),
    )
    assert Membership.objects.filter(organization=organization, role=Role.OWNER).count() == 1
    removed = [o for o in outcomes if not isinstance(o, Exception) and o.removed]
    assert len(removed) == 1, outcomes


def test_a_role_only_change_keeps_the_folders(admin, viewer, folders):
    member = services.change_member(actor=admin, member_id=viewer.pk, role=Role.OPERATOR)
    assert member.granted_folders == [folders.building_a1]
    assert set(access.operable_folders(member)) == {folders.building_a1, folders.room_a1x}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_an_operator_or_viewer_left_without_folders_is_refused(admin, viewer, folders, role):
    with pytest.raises(Invalid) as refused:
        services.change_member(actor=admin, member_id=viewer.pk, role=role, folder_ids=[])
    assert refused.value.code == "folders_required"
    assert Membership.objects.get(pk=viewer.pk).granted_folders == [folders.building_a1]


def test_demoting_an_admin_to_viewer_needs_folders(owner, admin, folders):
    with pytest.raises(Invalid) as refused:
        services.change_member(actor=owner, member_id=admin.pk, role=Role.VIEWER)
    assert refused.value.code == "folders_required"
    assert Membership.objects.get(pk=admin.pk).role == Role.ADMIN
