"""The list's FilterSet as the API uses it: `filtered_devices` over query parameters."""

import pytest
from django.http import QueryDict

from common.errors import Invalid
from devices import selectors
from devices.filters import filtered_devices, openapi_parameters
from devices.models import Device
from tests.devices.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def _filter(membership, query: str) -> list[str]:
    devices = selectors.visible_devices(membership)
    return [device.name for device in filtered_devices(membership, QueryDict(query), devices)]


@pytest.fixture
def fleet(tenant, other_tenant):
    DeviceFactory(folder=tenant.site_a, name="a", status=Device.Status.OFFLINE)
    DeviceFactory(folder=tenant.building_a1, name="b", product_number="M1137")
    DeviceFactory(folder=tenant.room_a1x, name="c", firmware_version="9.80.1")
    DeviceFactory(folder=tenant.site_b, name="d", status=Device.Status.UNREACHABLE)
    DeviceFactory(folder=other_tenant.site_a, name="theirs")


def test_script_parameters_mean_what_the_page_means(operator, tenant, fleet):
    site_a = tenant.site_a.pk
    assert _filter(operator, f"folder={site_a}&include_subfolders=true") == ["a", "b", "c"]
    assert _filter(operator, f"folder={site_a}&include_subfolders=false") == ["a"]
    assert _filter(operator, "model=M1137") == ["b"]
    assert _filter(operator, "firmware_version=9.80.1") == ["c"]
    assert _filter(operator, "status=offline&status=online&ordering=-name") == ["c", "b", "a"]
    assert _filter(operator, "q=m113") == ["b"]


def test_a_folder_outside_the_grants_is_an_error_on_its_field(operator, tenant, fleet):
    with pytest.raises(Invalid) as refused:
        _filter(operator, f"folder={tenant.site_b.pk}")
    assert refused.value.code == "invalid_filter"
    assert refused.value.fields == {"folder": ["Choose a folder from the list."]}


def test_several_bad_parameters_are_named_together(admin, fleet):
    with pytest.raises(Invalid) as refused:
        _filter(admin, "status=melted&ordering=password")
    assert set(refused.value.fields) == {"status", "ordering"}


def test_the_api_schema_names_every_parameter():
    names = [parameter.name for parameter in openapi_parameters()]
    assert names == [
        "q",
        "folder",
        "include_subfolders",
        "model",
        "firmware_version",
        "status",
        "upgrade_recommended",
        "ordering",
    ]
