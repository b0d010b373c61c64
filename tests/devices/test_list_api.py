"""The device API's list takes the list page's filters (devices/filters.py), same names."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from devices.models import Device
from organizations import access
from tests.devices.factories import DeviceFactory
from tests.organizations.factories import FolderFactory

pytestmark = pytest.mark.django_db


def _names(api, membership, query: str = "", status: int = 200):
    url = reverse("api:device-list", args=[membership.organization_id])
    response = api.login(membership).get(f"{url}?{query}")
    assert response.status_code == status, response.content
    return [device["name"] for device in response.json().get("results", [])], response.json()


@pytest.fixture
def fleet(tenant, other_tenant):
    DeviceFactory(folder=tenant.site_a, name="a", status=Device.Status.OFFLINE)
    DeviceFactory(folder=tenant.building_a1, name="b", product_number="M1137")
    DeviceFactory(folder=tenant.room_a1x, name="c", firmware_version="9.80.1")
    DeviceFactory(folder=tenant.site_b, name="d", status=Device.Status.UNREACHABLE)
    DeviceFactory(folder=other_tenant.site_a, name="theirs")


def test_the_api_list_filters_like_the_page(api, operator, tenant, fleet):
    site_a = tenant.site_a.pk
    assert _names(api, operator, f"folder={site_a}&include_subfolders=true")[0] == ["a", "b", "c"]
    assert _names(api, operator, f"folder={site_a}")[0] == ["a"]
    assert _names(api, operator, "model=M1137")[0] == ["b"]
    assert _names(api, operator, "firmware_version=9.80.1")[0] == ["c"]
    assert _names(api, operator, "status=offline&status=online&ordering=-name")[0] == [
        "c",
        "b",
        "a",
    ]
    assert _names(api, operator, "q=m113")[0] == ["b"]


def test_a_viewer_filters_only_inside_the_grants(api, viewer, tenant, fleet):
    assert _names(api, viewer, "status=unreachable")[0] == []
    assert _names(api, viewer)[0] == ["b", "c"]


def test_a_bad_filter_answers_400_naming_it(api, operator, tenant, fleet):
    _found, body = _names(api, operator, f"folder={tenant.site_b.pk}&ordering=password", status=400)
    assert body["error"]["code"] == "invalid_filter"
    assert set(body["error"]["fields"]) == {"folder", "ordering"}
    assert body["error"]["fields"]["folder"] == ["Choose a folder from the list."]


def test_the_api_query_count_does_not_grow_with_grants_or_devices(api, viewer, tenant):
    url = reverse("api:device-list", args=[tenant.organization.pk]) + "?q=cam&status=online"
    DeviceFactory(folder=tenant.building_a1, name="cam")
    api.login(viewer).get(url)
    with CaptureQueriesContext(connection) as few:
        api.get(url)
    folders = [FolderFactory(parent=tenant.top, name=f"Granted {n}") for n in range(4)]
    access.grant_folders(viewer, folders)
    for folder in folders:
        DeviceFactory.create_batch(15, folder=folder, name="cam")
    with CaptureQueriesContext(connection) as many:
        response = api.get(url)
    assert response.json()["count"] == 61
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("folder=", "folder"),
        ("include_subfolders=", "include_subfolders"),
        ("include_subfolders=null", "include_subfolders"),
        ("status=", "status"),
        ("ordering=", "ordering"),
    ],
)
def test_a_blank_or_unreadable_filter_is_refused_on_its_field(api, tenant, fleet, query, field):
    _, body = _names(api, tenant.owner, query, status=400)
    assert body["error"]["code"] == "invalid_filter"
    assert field in body["error"]["fields"]
