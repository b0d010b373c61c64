"""Which devices a member sees: their organization's, inside their granted folder subtrees."""

import uuid

import pytest

from common.errors import NotFound
from devices import selectors
from tests.devices.factories import DeviceFactory


@pytest.fixture
def fleet(tenant, other_tenant):
    """One device in each of the organization's folders, and one in the other organization."""
    return {
        "top": DeviceFactory(folder=tenant.top),
        "site_a": DeviceFactory(folder=tenant.site_a),
        "building_a1": DeviceFactory(folder=tenant.building_a1),
        "room_a1x": DeviceFactory(folder=tenant.room_a1x),
        "site_b": DeviceFactory(folder=tenant.site_b),
        "other": DeviceFactory(folder=other_tenant.site_a),
    }


def _names(fleet, devices):
    by_id = {device.pk: name for name, device in fleet.items()}
    return {by_id[device.pk] for device in devices}


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_see_every_device_of_their_organization(tenant, fleet, role):
    visible = selectors.visible_devices(getattr(tenant, role))
    assert _names(fleet, visible) == {"top", "site_a", "building_a1", "room_a1x", "site_b"}


def test_owners_and_admins_skip_the_folder_subquery(tenant, fleet):
    sql = str(selectors.visible_devices(tenant.admin).query)
    assert "organizations_folder" not in sql


def test_a_viewer_sees_the_devices_of_granted_folders_and_below(tenant, fleet):
    assert _names(fleet, selectors.visible_devices(tenant.viewer)) == {"building_a1", "room_a1x"}


def test_an_operator_sees_the_devices_of_granted_subtrees(tenant, fleet):
    visible = selectors.visible_devices(tenant.operator)
    assert _names(fleet, visible) == {"site_a", "building_a1", "room_a1x"}


def test_visible_devices_costs_the_same_queries_whatever_the_grants(
    tenant,
    fleet,
    django_assert_num_queries,
):
    # Two for visibility (granted paths; then devices joined with the subtree), as for folders.
    with django_assert_num_queries(2):
        list(selectors.visible_devices(tenant.viewer))


def test_get_visible_device_returns_a_device_in_reach(tenant, fleet):
    device = selectors.get_visible_device(tenant.viewer, fleet["room_a1x"].pk)
    assert device == fleet["room_a1x"]
    assert device.folder == tenant.room_a1x


@pytest.mark.parametrize("name", ["top", "site_a", "site_b", "other"])
def test_a_device_outside_a_viewers_reach_is_404(tenant, fleet, name):
    with pytest.raises(NotFound) as refused:
        selectors.get_visible_device(tenant.viewer, fleet[name].pk)
    assert refused.value.code == "device_not_found"


def test_a_device_of_another_organization_is_404_even_for_its_owners_peers(tenant, fleet):
    with pytest.raises(NotFound):
        selectors.get_visible_device(tenant.owner, fleet["other"].pk)


@pytest.mark.parametrize("device_id", [uuid.uuid4(), "not-a-uuid", None, 42])
def test_an_unknown_or_malformed_id_is_404(tenant, device_id):
    with pytest.raises(NotFound):
        selectors.get_visible_device(tenant.owner, device_id)


def test_status_history_is_newest_first_and_scoped(tenant, fleet):
    from devices import services

    device = fleet["room_a1x"]
    services.record_device_status(device_id=device.pk, status="offline", reason="no answer")
    services.record_device_status(device_id=device.pk, status="online", reason="answered")
    history = list(selectors.device_status_history(tenant.viewer, device.pk))
    assert [(c.previous_status, c.status) for c in history] == [
        ("offline", "online"),
        ("online", "offline"),
    ]
    with pytest.raises(NotFound):
        selectors.device_status_history(tenant.viewer, fleet["site_b"].pk)
