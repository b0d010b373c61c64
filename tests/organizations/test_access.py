"""The role table of PRODUCT.md §3, folder visibility, and who may act on whom."""

import pytest

from common.errors import Forbidden, Invalid
from organizations import access
from organizations.models import Folder
from organizations.roles import Action, Role
from tests.organizations.factories import FolderFactory, MembershipFactory
from tests.support import registry
from tests.support.registry import NO

# PRODUCT.md §3 as each app declares it in tests/<app>/declarations.py.
ROLE_TABLE = registry.role_table()
ROLES = (Role.OWNER, Role.ADMIN, Role.OPERATOR, Role.VIEWER)


class Thing:
    """Any object filed in a folder (a device, later): access reads `.folder`."""

    def __init__(self, folder: Folder) -> None:
        self.folder, self.folder_id, self.organization_id = (
            folder,
            folder.pk,
            folder.organization_id,
        )


def test_role_table_covers_every_action():
    undeclared = sorted(set(Action) - set(ROLE_TABLE))
    assert not undeclared, (
        f"No role table row for {undeclared}: declare each action's PRODUCT.md §3 row in "
        f"{registry.DECLARATIONS} with declare_role_rows({{Action.…: (owner, admin, operator, "
        "viewer)}})."
    )
    assert set(ROLE_TABLE) == set(Action)


@pytest.mark.parametrize("action", list(ROLE_TABLE), ids=str)
@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("where", ["inside", "outside", "no_object"])
def test_role_table_of_product_spec(tenant, action, role, where):
    membership = MembershipFactory(
        organization=tenant.organization, role=role, folders=[tenant.site_a]
    )
    expected = ROLE_TABLE[action][ROLES.index(role)]
    # room_a1x is two levels below the granted site_a; site_b is a sibling outside the grant.
    obj = {"inside": Thing(tenant.room_a1x), "outside": Thing(tenant.site_b), "no_object": None}
    allowed = access.can(membership, action, obj[where])
    if expected == NO:
        assert allowed is False
    elif where == "outside" and role in (Role.OPERATOR, Role.VIEWER):
        # Outside their grants a thing does not exist for operators and viewers: nothing is
        # allowed on it, whether the action is folder-scoped (GRANTED) or not (ALL).
        assert allowed is False
    else:
        assert allowed is True


def test_object_of_another_organization_allows_nothing(owner, other_tenant):
    assert not access.can(owner, Action.DEVICE_VIEW, Thing(other_tenant.site_a))
    assert not access.can(owner, Action.FOLDER_MANAGE, other_tenant.site_a)
    assert not access.can(owner, Action.MEMBER_CHANGE, other_tenant.admin)


def test_archived_organization_allows_nothing(owner, organization):
    organization.archived_at = organization.created_at
    organization.save()
    assert not access.can(owner, Action.ORGANIZATION_VIEW)


def test_admin_cannot_change_or_remove_an_owner(admin, owner, viewer):
    assert not access.can(admin, Action.MEMBER_CHANGE, owner)
    assert not access.can(admin, Action.MEMBER_REMOVE, owner)
    assert access.can(admin, Action.MEMBER_CHANGE, viewer)
    assert access.can(owner, Action.MEMBER_REMOVE, owner)


def test_require_explains_a_missing_role_permission(viewer):
    with pytest.raises(Forbidden) as refused:
        access.require(viewer, Action.FOLDER_MANAGE)
    assert refused.value.code == "role_not_allowed"
    assert "Viewer" in str(refused.value.message)


def test_require_explains_a_folder_outside_the_grants(operator, tenant):
    with pytest.raises(Forbidden) as refused:
        access.require(operator, Action.DEVICE_CONTROL, Thing(tenant.site_b))
    assert refused.value.code == "folder_not_granted"


def test_require_explains_owner_protection(admin, owner):
    with pytest.raises(Forbidden) as refused:
        access.require(admin, Action.MEMBER_REMOVE, owner)
    assert refused.value.code == "owner_protected"


def test_owner_and_admin_see_every_folder(tenant):
    every = set(Folder.objects.filter(organization=tenant.organization))
    assert set(access.visible_folders(tenant.owner)) == every
    assert set(access.visible_folders(tenant.admin)) == every


def test_viewer_sees_granted_folder_and_its_whole_subtree(tenant):
    assert set(access.visible_folders(tenant.viewer)) == {tenant.building_a1, tenant.room_a1x}


def test_operator_sees_granted_subtree_and_no_sibling(tenant):
    visible = set(access.visible_folders(tenant.operator))
    assert visible == {tenant.site_a, tenant.building_a1, tenant.room_a1x}
    assert tenant.site_b not in visible
    assert tenant.top not in visible


def test_member_without_grants_sees_no_folder(tenant):
    member = MembershipFactory(organization=tenant.organization, role=Role.VIEWER)
    assert list(access.visible_folders(member)) == []


def test_grants_in_another_organization_do_not_leak(tenant, other_tenant):
    # The same person is a viewer in both organizations, with a grant in the other one only.
    person = tenant.viewer.user
    MembershipFactory(
        organization=other_tenant.organization, user=person, folders=[other_tenant.top]
    )
    assert set(access.visible_folders(tenant.viewer)) == {tenant.building_a1, tenant.room_a1x}


def test_folder_created_under_a_grant_is_visible_at_once(tenant):
    new_room = FolderFactory(parent=tenant.building_a1, name="New room")
    assert new_room in access.visible_folders(tenant.viewer)


def test_visibility_costs_the_same_two_queries_whatever_the_number_of_grants(
    tenant, django_assert_num_queries
):
    sites = [FolderFactory(parent=tenant.top, name=f"Extra {n}") for n in range(12)]
    few = MembershipFactory(organization=tenant.organization, folders=sites[:1])
    many = MembershipFactory(organization=tenant.organization, folders=sites)
    # The granted paths, then the folders under them.
    with django_assert_num_queries(2):
        assert len(list(access.visible_folders(few))) == 1
    with django_assert_num_queries(2):
        assert len(list(access.visible_folders(many))) == 12


def test_operator_operates_only_inside_granted_folders(tenant):
    operable = set(access.operable_folders(tenant.operator))
    assert operable == {tenant.site_a, tenant.building_a1, tenant.room_a1x}
    assert list(access.operable_folders(tenant.viewer)) == []


def test_demoting_an_operator_to_viewer_drops_operate_grants(tenant):
    operator = tenant.operator
    operator.role = Role.VIEWER
    operator.save()
    access.set_folder_grants(operator, [tenant.site_a])
    assert not access.can(operator, Action.DEVICE_CONTROL, Thing(tenant.room_a1x))
    operator.role = Role.OPERATOR
    operator.save()
    assert not access.can(operator, Action.DEVICE_CONTROL, Thing(tenant.room_a1x))
    assert access.can(operator, Action.DEVICE_VIEW, Thing(tenant.room_a1x))


def test_set_folder_grants_replaces_previous_grants(tenant):
    access.set_folder_grants(tenant.viewer, [tenant.site_b])
    assert set(access.visible_folders(tenant.viewer)) == {tenant.site_b}
    assert set(access.granted_folders(tenant.viewer)) == {tenant.site_b}


def test_revoking_a_folder_hides_its_subtree(tenant):
    access.revoke_folders(tenant.operator, [tenant.site_a])
    assert list(access.visible_folders(tenant.operator)) == []


def _refusal(check, *args):
    try:
        check(*args)
    except (Forbidden, Invalid) as error:
        return error
    return None


@pytest.mark.parametrize("elevated", [False, True], ids=["viewer-only", "elevated"])
@pytest.mark.parametrize("who", ["owner", "admin", "operator", "viewer"])
def test_the_invitable_roles_are_exactly_those_the_check_lets_through(tenant, who, elevated):
    organization = tenant.organization
    organization.allow_elevated_invitations = elevated
    membership = getattr(tenant, who)
    offered = access.invitable_roles(membership, organization)
    for role in Role:
        refusal = _refusal(access.require_invitable_role, membership, organization, role)
        assert (refusal is None) == (role in offered), (who, role, refusal)
    expected = {
        ("owner", True): [Role.VIEWER, Role.OPERATOR, Role.ADMIN],
        ("admin", True): [Role.VIEWER, Role.OPERATOR, Role.ADMIN],
        ("operator", True): [Role.VIEWER, Role.OPERATOR],
        ("viewer", True): [Role.VIEWER],
    }.get((who, elevated), [Role.VIEWER])
    assert offered == expected


@pytest.mark.parametrize("who", ["owner", "admin", "operator", "viewer"])
def test_the_assignable_roles_are_exactly_those_the_check_lets_through(tenant, who):
    membership = getattr(tenant, who)
    offered = access.assignable_roles(membership)
    for role in Role:
        refusal = _refusal(access.require_assignable_role, membership, role)
        assert (refusal is None) == (role in offered), (who, role, refusal)
    assert (Role.OWNER in offered) == (who == "owner")
    assert (Role.ADMIN in offered) == (who in ("owner", "admin"))
