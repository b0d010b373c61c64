"""Recommendations per device and security exposure, from the catalog."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from devices.models import Device
from tests.devices.factories import DeviceFactory
from tests.upgrades.factories import add_test_release
from upgrades import selectors

CRITICAL = ("CVE-2025-0324", "critical")
MEDIUM = ("CVE-2025-9524", "medium")


@pytest.fixture
def catalog(db):
    """Active 12.x, LTS 12.11 and LTS 11.11 for some models; one security release on 11.11."""
    return {
        "12.8.49": add_test_release("12.8.49", ("Q1961-TE",)),
        "12.9.57": add_test_release("12.9.57", ("Q1961-TE",)),
        "12.10.3": add_test_release("12.10.3", ("Q1961-TE",), recommended=False),
        "12.11.77": add_test_release("12.11.77", ("P3265-V",)),
        "12.11.100": add_test_release("12.11.100", ("P3265-V",)),
        "11.11.160": add_test_release("11.11.160", ("M1075-L",), fixes=(CRITICAL, MEDIUM)),
        "11.11.192": add_test_release("11.11.192", ("M1075-L",)),
    }


def _recommend(product, version):
    return selectors.load_catalog().recommendation(product, version)


def test_the_newest_recommended_release_on_the_devices_track_is_recommended(catalog):
    found = _recommend("P3265-V", "12.11.9")
    assert found.release == catalog["12.11.100"]  # 12.11.100 > 12.11.77, not as strings
    assert found.reason == "Newer on your track (LTS 12.11)"


def test_a_release_not_marked_recommended_is_not_offered(catalog):
    assert _recommend("Q1961-TE", "12.8.49").release == catalog["12.9.57"]
    assert _recommend("Q1961-TE", "12.9.57") is None


def test_nothing_is_recommended_when_up_to_date_or_newer_than_the_catalog(catalog):
    assert _recommend("P3265-V", "12.11.100") is None
    assert _recommend("P3265-V", "12.11.101") is None  # never a downgrade


def test_lts_devices_stay_on_their_line_and_other_models_get_nothing(catalog):
    # A P3265-V on the active track has no active release for its model.
    assert _recommend("P3265-V", "12.9.57") is None
    # An older line (11.8, not LTS) is on no track: moving is an admin's choice.
    assert _recommend("M1075-L", "11.8.61") is None
    assert _recommend("M3066-V", "10.12.1") is None


def test_a_security_fix_is_the_reason_when_the_device_has_the_cve(catalog):
    found = _recommend("M1075-L", "11.11.135")
    assert found.release == catalog["11.11.192"]
    assert found.is_security
    assert found.reason == "Security fix CVE-2025-0324, CVE-2025-9524"
    # Past the fix, the next release is only newer.
    assert _recommend("M1075-L", "11.11.170").reason == "Newer on your track (LTS 11.11)"


def test_recommendations_for_a_page_of_devices_cost_the_same_few_queries(catalog, tenant):
    for n in range(3):
        DeviceFactory(folder=tenant.top, product_number="P3265-V", firmware_version=f"12.11.{n}")
    devices = list(Device.objects.all())
    with CaptureQueriesContext(connection) as few:
        selectors.recommendations_for(devices)
    for n in range(30):
        DeviceFactory(folder=tenant.top, product_number="M1075-L", firmware_version=f"11.11.{n}")
    devices = list(Device.objects.all())
    with CaptureQueriesContext(connection) as many:
        found = selectors.recommendations_for(devices)
    assert len(few) == len(many) == 3
    assert len(found) == 33


def test_the_device_list_filter_keeps_exactly_the_devices_with_a_recommendation(catalog, tenant):
    due = DeviceFactory(folder=tenant.top, product_number="P3265-V", firmware_version="12.11.9")
    DeviceFactory(folder=tenant.top, product_number="P3265-V", firmware_version="12.11.100")
    DeviceFactory(folder=tenant.top, product_number="M3024-L", firmware_version="5.51.7.6")
    DeviceFactory(folder=tenant.top, product_number="P3265-V", firmware_version="not-a-version")
    security = DeviceFactory(
        folder=tenant.site_a, product_number="M1075-L", firmware_version="11.11.135"
    )
    devices = Device.objects.for_organization(tenant.organization)
    with CaptureQueriesContext(connection) as queries:
        kept = set(selectors.with_upgrade_recommended(devices))
    assert kept == {due, security}
    # The catalog (3), the distinct (model, version) pairs, the devices: whatever the fleet.
    assert len(queries) == 5


def test_the_filter_of_a_fleet_without_recommendations_is_empty(catalog, tenant):
    DeviceFactory(folder=tenant.top, product_number="P3265-V", firmware_version="12.11.100")
    devices = Device.objects.for_organization(tenant.organization)
    assert not selectors.with_upgrade_recommended(devices).exists()


# --- Security exposure --------------------------------------------------------------------


@pytest.fixture
def exposed_fleet(catalog, tenant, other_tenant):
    return {
        "lobby": DeviceFactory(
            folder=tenant.building_a1, product_number="M1075-L", firmware_version="11.11.135"
        ),
        "gate": DeviceFactory(
            folder=tenant.site_b, product_number="M1075-L", firmware_version="11.11.99"
        ),
        "fixed": DeviceFactory(
            folder=tenant.site_b, product_number="M1075-L", firmware_version="11.11.160"
        ),
        "other_line": DeviceFactory(
            folder=tenant.site_b, product_number="P3265-V", firmware_version="12.11.9"
        ),
        "other_tenant": DeviceFactory(
            folder=other_tenant.top, product_number="M1075-L", firmware_version="11.11.135"
        ),
    }


def test_exposure_counts_the_visible_devices_on_an_affected_version(exposed_fleet, tenant):
    assert selectors.exposed_device_count(tenant.admin) == 2
    assert selectors.exposed_device_count(tenant.viewer) == 1  # only building_a1 is granted


def test_each_cve_lists_its_exposed_devices_and_the_fixing_version(exposed_fleet, tenant):
    rows = {row.advisory.cve_id: row for row in selectors.security_exposure(tenant.admin)}
    assert list(rows) == ["CVE-2025-0324", "CVE-2025-9524"]  # most severe first
    critical = rows["CVE-2025-0324"]
    assert critical.count == 2
    assert {(d.name, r.version) for d, r in critical.devices} == {
        (exposed_fleet["lobby"].name, "11.11.160"),
        (exposed_fleet["gate"].name, "11.11.160"),
    }


def _page(client, membership):
    client.force_login(membership.user)
    url = reverse("upgrades:security-exposure", args=[membership.organization_id])
    return client.get(url)


@pytest.mark.parametrize("role", ["owner", "admin", "operator", "viewer"])
def test_every_role_sees_the_exposure_of_the_devices_they_see(client, exposed_fleet, tenant, role):
    response = _page(client, getattr(tenant, role))
    assert response.status_code == 200
    page = response.content.decode()
    expected = {"owner": 2, "admin": 2, "operator": 1, "viewer": 1}[role]
    noun = "device" if expected == 1 else "devices"
    assert f"{expected} {noun} exposed to known vulnerabilities" in page
    assert exposed_fleet["lobby"].name in page
    assert (exposed_fleet["gate"].name in page) == (role in ("owner", "admin"))
    assert exposed_fleet["other_tenant"].name not in page


def test_the_exposure_page_in_japanese(client, exposed_fleet, tenant):
    tenant.admin.user.language = "ja"
    tenant.admin.user.save()
    client.force_login(tenant.admin.user)
    url = reverse("upgrades:security-exposure", args=[tenant.organization.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "既知の脆弱性" in page


@pytest.mark.parametrize(("role", "count"), [("admin", 2), ("viewer", 1)])
def test_the_exposure_api_answers_what_the_page_shows(api, exposed_fleet, tenant, role, count):
    api.login(getattr(tenant, role))
    url = reverse("api:security-exposure", args=[tenant.organization.pk])
    body = api.get(url).json()
    assert body["exposed_devices"] == count
    critical = body["vulnerabilities"][0]
    assert (critical["cve_id"], critical["severity"], critical["exposed_count"]) == (
        "CVE-2025-0324",
        "critical",
        count,
    )
    assert {d["fixed_in"] for d in critical["devices"]} == {"11.11.160"}
    assert str(exposed_fleet["other_tenant"].pk) not in str(body)


def test_the_exposure_api_of_another_organization_is_404(api, other_tenant, tenant):
    api.login(other_tenant.admin)
    assert (
        api.get(reverse("api:security-exposure", args=[tenant.organization.pk])).status_code == 404
    )
