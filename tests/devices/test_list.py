"""Device list page: visibility, folder picker, search, filters, sorting, paging, query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from devices import selectors
from devices.models import Device
from organizations import access
from tests.devices.factories import DeviceFactory
from tests.organizations.factories import FolderFactory

pytestmark = pytest.mark.django_db


def _list(client, membership, expected_status=200, **query):
    client.force_login(membership.user)
    url = reverse("devices:device-list", args=[membership.organization_id])
    response = client.get(url, query)
    assert response.status_code == expected_status, response.content.decode()[:2000]
    return response


def _names(response) -> list[str]:
    return [row.record.name for row in response.context["table"].paginated_rows]


@pytest.fixture
def fleet(tenant, other_tenant):
    """One device in every folder of the cast, and one in the other organization."""
    return {
        name: DeviceFactory(folder=getattr(tenant, name), name=f"cam {name}")
        for name in ("top", "site_a", "building_a1", "room_a1x", "site_b")
    } | {"other": DeviceFactory(folder=other_tenant.site_a, name="cam other")}


def test_viewer_sees_only_devices_in_granted_folders(client, viewer, fleet):
    response = _list(client, viewer)
    assert sorted(_names(response)) == ["cam building_a1", "cam room_a1x"]
    html = response.content.decode()
    assert "cam site_a" not in html
    assert "cam other" not in html


def test_owner_sees_every_device_of_the_organization_only(client, owner, fleet):
    names = _names(_list(client, owner))
    assert sorted(names) == sorted(f"cam {name}" for name in fleet if name != "other")


def test_folder_picker_offers_only_visible_folders(client, viewer, tenant, other_tenant, fleet):
    html = _list(client, viewer).content.decode()
    assert str(tenant.building_a1.pk) in html
    assert str(tenant.room_a1x.pk) in html
    assert str(tenant.site_a.pk) not in html
    assert str(other_tenant.building_a1.pk) not in html


def test_folder_filter_with_and_without_subfolders(client, operator, tenant, fleet):
    only = _names(_list(client, operator, folder=tenant.site_a.pk))
    assert only == ["cam site_a"]
    below = _names(_list(client, operator, folder=tenant.site_a.pk, include_subfolders="true"))
    assert sorted(below) == ["cam building_a1", "cam room_a1x", "cam site_a"]
    # A script's "no" is no.
    assert _names(_list(client, operator, folder=tenant.site_a.pk, include_subfolders="0")) == [
        "cam site_a"
    ]


@pytest.mark.parametrize("folder", ["site_b", "other", "made_up", "not_a_uuid"])
def test_folder_outside_reach_is_refused_with_a_message(
    client, viewer, tenant, other_tenant, fleet, folder
):
    folder_id = {
        "site_b": tenant.site_b.pk,
        "other": other_tenant.building_a1.pk,
        "made_up": "0b7f1f3a-1d2c-4e5f-8a9b-0c1d2e3f4a5b",
        "not_a_uuid": "building",
    }[folder]
    response = _list(client, viewer, expected_status=400, folder=folder_id)
    assert _names(response) == []
    assert "Choose a folder from the list." in response.content.decode()


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("LOBBY", ["Lobby entrance"]),  # name, any case
        ("b8a44f00beef", ["Parking"]),  # serial number
        ("q6135", ["Lobby entrance"]),  # model
        ("10.99.0.7", ["Parking"]),  # address
        ("  ", ["Lobby entrance", "Parking"]),  # blank: no search
    ],
)
def test_search_by_name_serial_model_or_address(client, admin, tenant, term, expected):
    DeviceFactory(folder=tenant.top, name="Lobby entrance", product_number="Q6135-LE")
    DeviceFactory(
        folder=tenant.site_b, name="Parking", serial_number="B8A44F00BEEF", host="10.99.0.7"
    )
    assert _names(_list(client, admin, q=term)) == expected


def test_search_term_longer_than_allowed_is_refused(client, admin, fleet):
    response = _list(client, admin, expected_status=400, q="x" * 101)
    assert _names(response) == []
    assert "at most 100 characters" in response.content.decode()


def test_filters_by_model_firmware_and_statuses(client, admin, tenant):
    DeviceFactory(folder=tenant.top, name="a", product_number="M3086-V", firmware_version="11.1")
    DeviceFactory(folder=tenant.top, name="b", product_number="M3086-V", firmware_version="12.2")
    DeviceFactory(folder=tenant.top, name="c", status=Device.Status.OFFLINE)
    DeviceFactory(folder=tenant.top, name="d", status=Device.Status.AUTH_FAILED)
    assert _names(_list(client, admin, model="M3086-V")) == ["a", "b"]
    assert _names(_list(client, admin, model="M3086-V", firmware_version="12.2")) == ["b"]
    client.force_login(admin.user)
    url = reverse("devices:device-list", args=[tenant.organization.pk])
    response = client.get(f"{url}?status=offline&status=auth_failed")
    assert _names(response) == ["c", "d"]
    refused = _list(client, admin, expected_status=400, status="exploded")
    assert "Select a valid choice." in refused.content.decode()


def test_filter_choices_come_from_visible_devices_only(client, viewer, tenant, other_tenant):
    DeviceFactory(folder=tenant.building_a1, product_number="P1468-LE", firmware_version="11.9.1")
    DeviceFactory(folder=tenant.site_b, product_number="SECRET-SITE-B", firmware_version="6.50.9")
    DeviceFactory(
        folder=other_tenant.building_a1, product_number="OTHER-TENANT", firmware_version="5.1.1"
    )
    response = _list(client, viewer)
    assert response.context["facets"] == {"model": ["P1468-LE"], "firmware_version": ["11.9.1"]}
    html = response.content.decode()
    assert "SECRET-SITE-B" not in html
    assert "OTHER-TENANT" not in html


def test_sorting_by_column_both_ways(client, admin, tenant):
    now = timezone.now()
    DeviceFactory(folder=tenant.top, name="b", host="10.0.0.3", last_seen_at=now)
    DeviceFactory(folder=tenant.top, name="a", host="10.0.0.9", last_seen_at=None)
    DeviceFactory(folder=tenant.top, name="c", host="10.0.0.1", last_seen_at=now - timedelta(1))
    assert _names(_list(client, admin)) == ["a", "b", "c"]
    assert _names(_list(client, admin, ordering="-name")) == ["c", "b", "a"]
    assert _names(_list(client, admin, ordering="address")) == ["c", "b", "a"]
    # Never seen sorts last in both directions.
    assert _names(_list(client, admin, ordering="last_seen")) == ["c", "b", "a"]
    assert _names(_list(client, admin, ordering="-last_seen")) == ["b", "c", "a"]
    html = _list(client, admin, ordering="name").content.decode()
    assert "ordering=-name" in html  # the header link turns the order round


def test_unknown_sort_column_is_refused(client, admin, fleet):
    response = _list(client, admin, expected_status=400, ordering="encrypted_password")
    assert _names(response) == []
    assert "Select a valid choice." in response.content.decode()


def test_pages_of_fifty_by_default_and_chosen_size(client, admin, tenant):
    DeviceFactory.create_batch(60, folder=tenant.site_b)
    first = _list(client, admin)
    assert len(_names(first)) == 50
    assert first.context["table"].paginator.count == 60
    assert "60 devices" in first.content.decode()
    second = _list(client, admin, page=2)
    assert len(_names(second)) == 10
    assert not set(_names(first)) & set(_names(second))
    assert len(_names(_list(client, admin, per_page=25))) == 25
    # An unknown size is the default, not a way to load the whole fleet.
    assert len(_names(_list(client, admin, per_page=100000))) == 50
    # A page past the end shows the last page; garbage shows the first.
    assert _names(_list(client, admin, page=99)) == _names(second)
    assert _names(_list(client, admin, page="x")) == _names(first)


def test_ties_never_repeat_a_device_across_pages(client, admin, tenant):
    DeviceFactory.create_batch(30, folder=tenant.top, name="same", product_number="SAME")
    seen = []
    for page in (1, 2):
        response = _list(client, admin, ordering="model", per_page=25, page=page)
        seen += [row.record.pk for row in response.context["table"].paginated_rows]
    assert len(seen) == len(set(seen)) == 30


def test_bulk_selection_only_for_admins(client, admin, operator, viewer, tenant):
    DeviceFactory(folder=tenant.building_a1)
    assert 'name="selection"' in _list(client, admin).content.decode()
    assert 'id="device-bulk-form"' in _list(client, admin).content.decode()
    for member in (operator, viewer):
        html = _list(client, member).content.decode()
        assert 'name="selection"' not in html
        assert 'id="device-bulk-form"' not in html


def test_side_navigation_links_to_the_device_list(client, viewer):
    html = _list(client, viewer).content.decode()
    url = reverse("devices:device-list", args=[viewer.organization_id])
    assert f'aria-current="page" href="{url}"' in html


def _count_queries(client, membership, **query) -> int:
    client.force_login(membership.user)
    url = reverse("devices:device-list", args=[membership.organization_id])
    client.get(url, query)  # warm the session and the templates
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", [{}, {"q": "cam", "status": "online", "ordering": "-folder"}])
def test_query_count_does_not_grow_with_page_size_or_grants(client, viewer, tenant, query):
    DeviceFactory.create_batch(3, folder=tenant.building_a1, name="cam")
    few = _count_queries(client, viewer, **query)
    extra_folders = [FolderFactory(parent=tenant.top, name=f"Granted {n}") for n in range(5)]
    access.grant_folders(viewer, extra_folders)
    for folder in extra_folders:
        DeviceFactory.create_batch(10, folder=folder, name="cam", product_number=folder.name)
    many = _count_queries(client, viewer, **query)
    assert len(_names(_list(client, viewer, **query))) == 50
    assert many == few


def test_owner_query_count_does_not_grow_with_devices(client, owner, tenant):
    DeviceFactory(folder=tenant.top)
    few = _count_queries(client, owner)
    DeviceFactory.create_batch(60, folder=tenant.site_b)
    assert _count_queries(client, owner) == few


def test_narrowing_to_loaded_folders_never_widens_visibility(viewer, tenant, other_tenant):
    inside = DeviceFactory(folder=tenant.room_a1x)
    DeviceFactory(folder=tenant.site_b)
    DeviceFactory(folder=other_tenant.room_a1x)
    # A list that (wrongly) names folders outside the grants still shows only visible devices.
    folders = [tenant.room_a1x, tenant.site_b, other_tenant.room_a1x]
    assert list(selectors.visible_devices_in(viewer, folders)) == [inside]


def test_folder_and_device_names_are_escaped(client, admin, tenant):
    folder = FolderFactory(parent=tenant.top, name="<b>Lab</b>")
    DeviceFactory(folder=folder, name="<i>cam</i>")
    html = _list(client, admin, folder=folder.pk).content.decode()
    assert "<b>Lab</b>" not in html
    assert "&lt;b&gt;Lab&lt;/b&gt;" in html
    assert f'<option value="{folder.pk}" selected>' in html
    assert "<i>cam</i>" not in html
