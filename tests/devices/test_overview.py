"""The fleet on the organization's Overview page: counts, top folders, firmware chart, trouble."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from devices.models import Device
from tests.devices.factories import DeviceFactory

pytestmark = pytest.mark.django_db

Status = Device.Status


def _overview(client, membership):
    client.force_login(membership.user)
    response = client.get(
        reverse("organizations:organization-detail", args=[membership.organization_id])
    )
    assert response.status_code == 200
    return response


def _chart(html: str) -> dict:
    start = html.index('<script id="firmware-chart-data" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def fleet(tenant, other_tenant):
    DeviceFactory(folder=tenant.building_a1, name="A", firmware_version="11.9.1")
    DeviceFactory(folder=tenant.building_a1, name="B", firmware_version="10.12.3")
    DeviceFactory(
        folder=tenant.room_a1x, name="Broken", status=Status.AUTH_FAILED, firmware_version="9.80.1"
    )
    DeviceFactory(folder=tenant.site_b, name="Far", status=Status.OFFLINE, firmware_version="6.5")
    DeviceFactory(folder=tenant.site_b, name="Farther", status=Status.CERTIFICATE_CHANGED)
    DeviceFactory(
        folder=other_tenant.building_a1, name="Theirs", status=Status.OFFLINE, firmware_version="1"
    )


def test_owner_sees_counts_by_status_with_links_to_the_list(client, owner, fleet):
    response = _overview(client, owner)
    html = response.content.decode()
    assert "5 devices you can see." in html
    assert '<span data-status="online">2</span>' in html
    assert '<span data-status="offline">1</span>' in html
    assert '<span data-status="auth_failed">1</span>' in html
    assert '<span data-status="certificate_changed">1</span>' in html
    list_url = reverse("devices:device-list", args=[owner.organization_id])
    assert f'href="{list_url}?status=offline"' in html


def test_viewer_sees_only_devices_in_grants_in_counts_chart_folders_and_trouble(
    client, viewer, fleet
):
    html = _overview(client, viewer).content.decode()
    assert "3 devices you can see." in html
    assert '<span data-status="offline">0</span>' in html
    chart = _chart(html)
    assert chart["labels"] == ["9.80.1", "10.12.3", "11.9.1"]  # by version, not as text
    assert chart["counts"] == [1, 1, 1]
    assert "Broken" in html
    for hidden in ("Far", "Farther", "Theirs", "Site B", "6.5"):
        assert f">{hidden}<" not in html, hidden
    assert "Building A1" in html


def test_devices_needing_attention_link_to_their_pages(client, admin, tenant, fleet):
    html = _overview(client, admin).content.decode()
    broken = Device.objects.get(name="Broken")
    assert reverse("devices:device-detail", args=[tenant.organization.pk, broken.pk]) in html
    assert "Show all 3 devices" in html
    assert "status=certificate_changed&amp;status=auth_failed&amp;status=unreachable" in html


def test_rare_firmware_versions_add_up_as_others(client, admin, tenant):
    for index in range(14):
        DeviceFactory(folder=tenant.top, firmware_version=f"12.{index}.0")
    DeviceFactory(folder=tenant.top, firmware_version="")
    chart = _chart(_overview(client, admin).content.decode())
    assert len(chart["labels"]) == 13
    assert chart["labels"][-1] == "Other versions"
    assert chart["counts"][-1] == 3  # two rare versions and the one without a version
    assert sum(chart["counts"]) == 15


def test_the_chart_is_drawn_by_static_scripts_only(client, admin, fleet):
    html = _overview(client, admin).content.decode()
    assert "/static/vendor/chart.js/chart.umd.min.js" in html
    assert "/static/js/devices.js" in html
    assert 'id="firmware-chart"' in html


def test_an_organization_without_devices_says_so(client, owner):
    html = _overview(client, owner).content.decode()
    assert "0 devices you can see." in html
    assert "No device needs attention." in html
    assert "firmware-chart-data" not in html


def test_the_overview_query_count_does_not_grow_with_the_fleet(client, viewer, tenant):
    DeviceFactory(folder=tenant.building_a1)
    _overview(client, viewer)
    with CaptureQueriesContext(connection) as few:
        _overview(client, viewer)
    for index in range(30):
        DeviceFactory(
            folder=tenant.room_a1x, status=Status.OFFLINE, firmware_version=f"10.{index}.0"
        )
    with CaptureQueriesContext(connection) as many:
        _overview(client, viewer)
    assert len(many) == len(few)
