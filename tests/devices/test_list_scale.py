"""The device list at fleet scale: the trigram search, counts past a limit ("about N"), and the
filter choices read by a loose index scan — each giving the same devices as before."""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import QueryDict
from django.urls import reverse

from common import pagination
from devices import selectors
from devices.filters import DeviceFilterSet, filtered_devices
from devices.models import Device
from tests.devices.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def _search(membership, term: str) -> list[str]:
    devices = selectors.visible_devices(membership)
    found = filtered_devices(membership, QueryDict(urlencode({"q": term})), devices)
    return sorted(device.name for device in found)


@pytest.fixture
def searched(tenant, other_tenant):
    DeviceFactory(
        folder=tenant.site_a,
        name="Gate north",
        serial_number="ACCC8E000001",
        product_number="Q6135-LE",
        product_name="AXIS Q6135-LE PTZ Camera",
        host="cam-gate.example",
    )
    DeviceFactory(folder=tenant.site_b, name="100% lobby_1", product_number="M3086-V")
    DeviceFactory(folder=other_tenant.site_a, name="Gate north (theirs)")


def test_search_finds_a_term_in_any_one_column_in_any_case(admin, searched):
    assert _search(admin, "gate NO") == ["Gate north"]
    assert _search(admin, "cc8e000") == ["Gate north"]
    assert _search(admin, "q6135") == ["Gate north"]
    assert _search(admin, "ptz cam") == ["Gate north"]
    assert _search(admin, "GATE.EXAMPLE") == ["Gate north"]
    assert _search(admin, "  m3086 ") == ["100% lobby_1"]


def test_search_never_matches_across_two_columns(admin, searched):
    # The index holds the columns joined by spaces; a term spanning that join is no match.
    assert _search(admin, "north ACCC8E") == []
    assert _search(admin, "LE AXIS") == []


def test_search_reads_percent_and_underscore_as_themselves(admin, searched):
    assert _search(admin, "100%") == ["100% lobby_1"]
    assert _search(admin, "y_1") == ["100% lobby_1"]
    assert _search(admin, "y_") == ["100% lobby_1"]
    assert _search(admin, "1%0") == []
    assert _search(admin, "h_n") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index is PostgreSQL's")
def test_the_search_expression_is_the_one_the_trigram_index_holds(searched):
    found = DeviceFilterSet().filter_search(Device.objects.all(), "q", "gate")
    with connection.cursor() as cursor:
        # Only a bitmap scan may be chosen, and only the trigram index can start one for this
        # query: if the filter's expression drifted from the index's, the plan has none.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = found.explain()
    assert "Bitmap Index Scan on device_search_trigram" in plan
    assert sorted(device.name for device in found) == ["Gate north", "Gate north (theirs)"]


def _count_text(client, membership, **query) -> tuple:
    client.force_login(membership.user)
    url = reverse("devices:device-list", args=[membership.organization_id])
    response = client.get(url, query)
    assert response.status_code == 200
    return response, response.content.decode().split('id="device-count">')[1].split("</p>")[0]


@pytest.fixture
def a_low_limit(monkeypatch):
    """Count exactly only up to 5 devices, with fresh statistics for the planner's estimate."""
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)

    def analyze():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE devices_device")

    return analyze


def test_the_page_counts_exactly_up_to_the_limit(client, admin, tenant, a_low_limit):
    DeviceFactory.create_batch(5, folder=tenant.site_b)
    a_low_limit()
    response, text = _count_text(client, admin)
    assert text == "5 devices"
    assert response.context["table"].paginator.count_is_exact


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates are PostgreSQL's")
def test_past_the_limit_the_page_says_about_and_every_device_stays_reachable(
    client, admin, tenant, other_tenant, a_low_limit
):
    devices = DeviceFactory.create_batch(12, folder=tenant.site_b)
    DeviceFactory.create_batch(3, folder=other_tenant.site_b)
    a_low_limit()
    response, text = _count_text(client, admin, per_page=25)
    assert text == "about 12 devices"
    assert not response.context["table"].paginator.count_is_exact
    # Paged by the estimate or not, "Next" leads through every device exactly once.
    client.force_login(admin.user)
    url = reverse("devices:device-list", args=[admin.organization_id])
    seen, page = [], 1
    while True:
        response = client.get(url, {"per_page": 25, "page": page, "ordering": "name"})
        table = response.context["table"]
        seen += [row.record.pk for row in table.paginated_rows]
        if not table.page.has_next():
            break
        page = table.page.next_page_number()
    assert sorted(seen) == sorted(device.pk for device in devices)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates are PostgreSQL's")
def test_an_estimate_too_low_still_shows_next_and_a_page_past_the_end_is_empty(tenant, a_low_limit):
    DeviceFactory.create_batch(12, folder=tenant.site_b)
    a_low_limit()  # 12 rows in the statistics …
    DeviceFactory.create_batch(60, folder=tenant.site_b)  # … and 72 in the table
    devices = Device.objects.filter(organization=tenant.organization).order_by("name", "id")
    paginator = pagination.EstimatedCountPaginator(devices, 10)
    assert not paginator.count_is_exact
    assert paginator.num_pages < 8
    reached, page = 0, paginator.page(1)
    while True:
        reached += len(page.object_list)
        if not page.has_next():
            break
        page = paginator.page(page.next_page_number())
    assert reached == 72
    assert list(paginator.page(99).object_list) == []


@pytest.mark.parametrize(
    ("number", "shown"), [(7, 7), (99, 99), (7_997, 8_000), (123_456, 120_000)]
)
def test_about_keeps_two_significant_digits(number, shown):
    assert pagination.about(number) == shown


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates are PostgreSQL's")
def test_the_api_says_whether_its_count_is_exact(api, admin, tenant, a_low_limit):
    DeviceFactory.create_batch(7, folder=tenant.site_b)
    a_low_limit()
    url = reverse("api:device-list", args=[admin.organization_id])
    api.login(admin)
    body = api.get(f"{url}?q=10.20").json()  # every factory host: more than 5
    assert body["count_exact"] is False
    assert body["count"] > 5  # the planner's estimate
    assert len(body["results"]) == 7
    assert body["next"] is None
    small = api.get(f"{url}?status=offline").json()
    assert small["count"] == 0
    assert small["count_exact"] is True


def test_the_owner_filter_choices_are_those_of_every_device(owner, viewer, tenant, other_tenant):
    DeviceFactory(folder=other_tenant.site_a, product_number="THEIRS", firmware_version="1.0")
    DeviceFactory(folder=tenant.site_a, product_number="M1137", firmware_version="9.80.1")
    DeviceFactory(folder=tenant.room_a1x, product_number="M1137", firmware_version="11.11.3")
    DeviceFactory(folder=tenant.site_b, product_number="Q6135-LE", firmware_version="9.80.1")
    DeviceFactory(folder=tenant.site_b, product_number="", firmware_version="")
    DeviceFactory(folder=tenant.building_a1, product_number="P3265-V", firmware_version="10.12.7")
    expected = {
        "model": ["M1137", "P3265-V", "Q6135-LE"],
        "firmware_version": ["9.80.1", "10.12.7", "11.11.3"],
    }
    assert selectors.device_facets(owner, selectors.visible_devices(owner)) == expected
    # A viewer's choices stay those of the devices in the viewer's folders.
    assert selectors.device_facets(viewer, selectors.visible_devices(viewer)) == {
        "model": ["M1137", "P3265-V"],
        "firmware_version": ["10.12.7", "11.11.3"],
    }
