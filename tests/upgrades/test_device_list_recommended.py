"""The device list's "upgrade recommended" column and filter (page, CSV export, API), filled
by the upgrades app through devices.extensions, and the Overview's exposure line."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.devices.factories import DeviceFactory
from tests.upgrades.factories import add_test_release

pytestmark = pytest.mark.django_db

CRITICAL = ("CVE-2025-0324", "critical")


@pytest.fixture
def fleet(tenant, other_tenant):
    add_test_release("12.11.100", ("P3265-V",))
    add_test_release("11.11.160", ("M1075-L",), fixes=(CRITICAL,))
    return {
        "due": DeviceFactory(
            folder=tenant.building_a1,
            name="due",
            product_number="P3265-V",
            firmware_version="12.11.9",
        ),
        "current": DeviceFactory(
            folder=tenant.building_a1,
            name="current",
            product_number="P3265-V",
            firmware_version="12.11.100",
        ),
        "security": DeviceFactory(
            folder=tenant.room_a1x,
            name="security",
            product_number="M1075-L",
            firmware_version="11.11.135",
        ),
        "outside": DeviceFactory(
            folder=tenant.site_b,
            name="outside",
            product_number="P3265-V",
            firmware_version="12.11.9",
        ),
        "theirs": DeviceFactory(
            folder=other_tenant.site_a,
            name="theirs",
            product_number="P3265-V",
            firmware_version="12.11.9",
        ),
    }


def _page(client, membership, **query):
    client.force_login(membership.user)
    url = reverse("devices:device-list", args=[membership.organization_id])
    response = client.get(url, query)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


def _names(response) -> list[str]:
    return [row.record.name for row in response.context["table"].paginated_rows]


def test_the_list_shows_the_target_version_and_why(client, admin, fleet):
    response = _page(client, admin, ordering="name")
    html = response.content.decode()
    assert re.search(r"<th[^>]*>\s*Upgrade recommended\s*</th>", html)
    advice = response.context["table"].upgrade_advice
    assert set(advice) == {fleet["due"].pk, fleet["security"].pk, fleet["outside"].pk}
    assert "12.11.100</span> — Newer on your track (LTS 12.11)" in html
    assert "11.11.160</span> — Security fix CVE-2025-0324" in html


def test_the_filter_keeps_exactly_the_visible_devices_with_a_recommendation(
    client, admin, viewer, fleet
):
    assert _names(_page(client, admin, upgrade_recommended="true", ordering="name")) == [
        "due",
        "outside",
        "security",
    ]
    assert _names(_page(client, viewer, upgrade_recommended="true", ordering="name")) == [
        "due",
        "security",
    ]
    both = _page(client, admin, upgrade_recommended="true", model="P3265-V", ordering="name")
    assert _names(both) == ["due", "outside"]
    assert 'id="id_upgrade_recommended" checked' in both.content.decode()
    # Off (as the page's form sends it unticked) is every device.
    assert len(_names(_page(client, admin, upgrade_recommended=""))) == 4


def test_a_value_that_is_not_yes_or_no_is_an_error_on_the_field(client, admin, fleet):
    client.force_login(admin.user)
    url = reverse("devices:device-list", args=[admin.organization_id])
    response = client.get(url, {"upgrade_recommended": "maybe"})
    assert response.status_code == 400
    assert "Enter true or false." in response.content.decode()


def _count(client, membership, **query) -> int:
    _page(client, membership, **query)  # warm the session and the templates
    with CaptureQueriesContext(connection) as captured:
        _page(client, membership, **query)
    return len(captured)


@pytest.mark.parametrize("query", [{}, {"upgrade_recommended": "true"}])
def test_the_column_and_filter_cost_the_same_queries_whatever_the_fleet(
    client, admin, tenant, fleet, query
):
    few = _count(client, admin, **query)
    for n in range(40):
        DeviceFactory(folder=tenant.site_a, product_number="M1075-L", firmware_version=f"11.11.{n}")
    assert _count(client, admin, **query) == few


def test_the_csv_export_filters_and_carries_the_advice(client, viewer, fleet):
    client.force_login(viewer.user)
    url = reverse("devices:device-export", args=[viewer.organization_id])
    response = client.get(url, {"upgrade_recommended": "true", "ordering": "name"})
    assert response.status_code == 200
    header, *rows = csv.reader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert header[-1] == "Upgrade recommended"
    assert [(row[0], row[-1]) for row in rows] == [
        ("due", "12.11.100 — Newer on your track (LTS 12.11)"),
        ("security", "11.11.160 — Security fix CVE-2025-0324"),
    ]


def test_the_csv_header_in_japanese(client, admin, fleet):
    client.force_login(admin.user)
    url = reverse("devices:device-export", args=[admin.organization_id])
    response = client.get(url, headers={"accept-language": "ja"})
    header = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert header[-1] == "アップグレード推奨"


def test_the_api_list_takes_the_same_filter(api, operator, fleet):
    url = reverse("api:device-list", args=[operator.organization_id])
    response = api.login(operator).get(f"{url}?upgrade_recommended=true&ordering=name")
    assert response.status_code == 200
    assert [d["name"] for d in response.json()["results"]] == ["due", "security"]
    refused = api.login(operator).get(f"{url}?upgrade_recommended=")
    assert refused.status_code == 400
    assert set(refused.json()["error"]["fields"]) == {"upgrade_recommended"}


def test_the_overview_counts_exposed_devices_and_links_to_the_exposure_page(
    client, admin, viewer, fleet
):
    exposure = reverse("upgrades:security-exposure", args=[admin.organization_id])
    for membership, count in ((admin, "1 device exposed"), (viewer, "1 device exposed")):
        client.force_login(membership.user)
        html = client.get(
            reverse("organizations:organization-detail", args=[membership.organization_id])
        ).content.decode()
        assert f'href="{exposure}" id="security-overview-link">{count}' in html
    DeviceFactory(
        folder=fleet["outside"].folder, product_number="M1075-L", firmware_version="11.11.1"
    )
    client.force_login(admin.user)
    html = client.get(
        reverse("organizations:organization-detail", args=[admin.organization_id])
    ).content.decode()
    assert "2 devices exposed to known vulnerabilities" in html


def test_the_api_names_each_devices_recommended_upgrade(api, admin, fleet):
    client = api.login(admin)
    listed = client.get(reverse("api:device-list", args=[admin.organization_id]) + "?ordering=name")
    advice = {d["name"]: d["upgrade_recommended"] for d in listed.json()["results"]}
    assert advice["due"] == {"version": "12.11.100", "reason": "Newer on your track (LTS 12.11)"}
    assert advice["security"] == {"version": "11.11.160", "reason": "Security fix CVE-2025-0324"}
    assert advice["current"] is None
    one = client.get(reverse("api:device-detail", args=[admin.organization_id, fleet["due"].pk]))
    assert one.json()["upgrade_recommended"]["version"] == "12.11.100"


def test_the_api_list_reads_the_catalog_once_per_page(api, admin, tenant, fleet):
    client = api.login(admin)
    url = reverse("api:device-list", args=[admin.organization_id])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(30):
        DeviceFactory(folder=tenant.site_a, product_number="M1075-L", firmware_version=f"11.11.{n}")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
