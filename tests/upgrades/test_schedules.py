"""Upgrade schedules: inheritance, the service for a selection, the pages and the API."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.urls import reverse

from common.errors import Forbidden, Invalid, NotFound
from organizations import audit
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory
from tests.upgrades.factories import add_test_release
from upgrades import selectors
from upgrades.models import UpgradeSchedule
from upgrades.services import INHERIT, ScheduleSpec, apply_schedule

NIGHTLY = ScheduleSpec(
    mode="window",
    weekdays=frozenset({0, 1, 2, 3, 4}),
    start_time=time(23, 30),
    duration_minutes=180,
    blackout_dates=(date(2026, 12, 24),),
)
ASAP = ScheduleSpec(mode="asap")


@pytest.fixture
def device(tenant):
    return DeviceFactory(folder=tenant.room_a1x)


def _effective(device):
    device.refresh_from_db()
    return selectors.effective_device_schedules([device])[device.pk]


# --- Inheritance -------------------------------------------------------------------------


def test_without_any_schedule_a_device_is_upgraded_manually_only(device):
    effective = _effective(device)
    assert effective.mode == "none"
    assert effective.source is None
    assert effective.time_zone == "UTC"


def test_a_device_follows_the_nearest_folder_that_sets_a_schedule(tenant, device):
    apply_schedule(actor=tenant.admin, spec=ASAP, folder_ids=[tenant.top.pk])
    apply_schedule(actor=tenant.admin, spec=NIGHTLY, folder_ids=[tenant.site_a.pk])
    effective = _effective(device)
    assert effective.mode == "window"
    assert effective.source == tenant.site_a
    assert effective.inherited
    # Its own schedule wins; clearing it brings the folder's back.
    apply_schedule(actor=tenant.admin, spec=ASAP, device_ids=[device.pk])
    assert (_effective(device).mode, _effective(device).inherited) == ("asap", False)
    apply_schedule(actor=tenant.admin, spec=ScheduleSpec(mode=INHERIT), device_ids=[device.pk])
    assert _effective(device).source == tenant.site_a


def test_none_on_a_folder_stops_what_is_above(tenant, device):
    apply_schedule(actor=tenant.admin, spec=ASAP, folder_ids=[tenant.top.pk])
    apply_schedule(actor=tenant.admin, spec=ScheduleSpec("none"), folder_ids=[tenant.site_a.pk])
    assert _effective(device).mode == "none"
    assert _effective(device).source == tenant.site_a


def test_windows_are_read_in_the_device_folders_effective_time_zone(tenant, device):
    tenant.site_a.time_zone = "Europe/Stockholm"
    tenant.site_a.save()
    tenant.building_a1.time_zone = "Asia/Tokyo"
    tenant.building_a1.save()
    apply_schedule(actor=tenant.admin, spec=NIGHTLY, folder_ids=[tenant.top.pk])
    effective = _effective(device)
    assert effective.time_zone == "Asia/Tokyo"  # room_a1x inherits building_a1's zone
    window = effective.window()
    monday_night = datetime(2026, 6, 1, 23, 45, tzinfo=window.time_zone)
    assert selectors.upcoming_window(effective, monday_night)[0] == datetime(
        2026, 6, 1, 14, 30, tzinfo=UTC
    )


def test_effective_schedules_of_many_devices_cost_three_queries(tenant, django_assert_num_queries):
    devices = [DeviceFactory(folder=f) for f in (tenant.top, tenant.room_a1x, tenant.site_b)] * 5
    apply_schedule(actor=tenant.admin, spec=NIGHTLY, folder_ids=[tenant.site_a.pk])
    for device in devices:
        device.folder  # loaded, as select_related would  # noqa: B018
    with django_assert_num_queries(3):
        found = selectors.effective_device_schedules(devices)
    assert found[devices[1].pk].source == tenant.site_a
    assert found[devices[0].pk].source is None


# --- The service -------------------------------------------------------------------------


def test_one_action_sets_a_selection_and_audits_each_change(tenant, device):
    changed = apply_schedule(
        actor=tenant.admin,
        spec=NIGHTLY,
        folder_ids=[tenant.site_a.pk, tenant.site_b.pk],
        device_ids=[device.pk],
    )
    assert changed == 3
    schedule = UpgradeSchedule.objects.get(folder=tenant.site_a)
    assert (schedule.weekdays, schedule.start_time, schedule.duration_minutes) == (
        0b0011111,
        time(23, 30),
        180,
    )
    assert schedule.blackout_dates == ["2026-12-24"]
    events = AuditEvent.objects.filter(action="upgrade.schedule_set")
    assert events.count() == 3
    event = events.get(target_id=str(device.pk))
    assert event.data["from"] == {"mode": "inherit"}
    assert event.data["to"]["start_time"] == "23:30"
    assert audit.verify_chain(tenant.organization) is None
    # The same again changes nothing and writes no event.
    assert apply_schedule(actor=tenant.admin, spec=NIGHTLY, device_ids=[device.pk]) == 0
    assert AuditEvent.objects.filter(action="upgrade.schedule_set").count() == 3


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_set_schedules(tenant, device, role):
    with pytest.raises(Forbidden):
        apply_schedule(actor=getattr(tenant, role), spec=ASAP, folder_ids=[tenant.site_a.pk])
    assert not UpgradeSchedule.objects.exists()


def test_a_target_of_another_organization_refuses_the_whole_selection(tenant, other_tenant, device):
    other_device = DeviceFactory(folder=other_tenant.top)
    with pytest.raises(NotFound):
        apply_schedule(actor=tenant.admin, spec=ASAP, device_ids=[device.pk, other_device.pk])
    with pytest.raises(NotFound):
        apply_schedule(actor=tenant.admin, spec=ASAP, folder_ids=[other_tenant.top.pk])
    assert not UpgradeSchedule.objects.exists()


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (ScheduleSpec("weekly"), "mode"),
        (ScheduleSpec("window", frozenset(), time(2), 60), "weekdays"),
        (ScheduleSpec("window", frozenset({7}), time(2), 60), "weekdays"),
        (ScheduleSpec("window", frozenset({1}), None, 60), "start_time"),
        (ScheduleSpec("window", frozenset({1}), time(2, 0, 30), 60), "start_time"),
        (ScheduleSpec("window", frozenset({1}), time(2), 0), "duration_minutes"),
        (ScheduleSpec("window", frozenset({1}), time(2), 24 * 60 + 1), "duration_minutes"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(tenant, spec, field):
    with pytest.raises(Invalid) as refused:
        apply_schedule(actor=tenant.admin, spec=spec, folder_ids=[tenant.top.pk])
    assert field in refused.value.fields
    assert not UpgradeSchedule.objects.exists()


def test_an_empty_selection_is_refused(tenant):
    with pytest.raises(Invalid, match="at least one folder or device"):
        apply_schedule(actor=tenant.admin, spec=ASAP)


@pytest.mark.django_db(transaction=True)
def test_two_admins_setting_the_same_folder_at_once_both_land_one_after_the_other(race, tenant):
    outcomes = race(
        lambda: apply_schedule(actor=tenant.admin, spec=ASAP, folder_ids=[tenant.site_a.pk]),
        lambda: apply_schedule(actor=tenant.owner, spec=NIGHTLY, folder_ids=[tenant.site_a.pk]),
    )
    assert outcomes == [1, 1]
    assert UpgradeSchedule.objects.filter(folder=tenant.site_a).count() == 1
    assert AuditEvent.objects.filter(action="upgrade.schedule_set").count() == 2
    assert audit.verify_chain(tenant.organization) is None


# --- Pages -------------------------------------------------------------------------------


def _folder_page(tenant, folder):
    return reverse("upgrades:folder-schedule", args=[tenant.organization.pk, folder.pk])


def _device_page(tenant, device):
    return reverse("upgrades:device-schedule", args=[tenant.organization.pk, device.pk])


WINDOW_FORM = {
    "mode": "window",
    "weekdays": ["5", "6"],
    "start_time": "22:00",
    "duration_minutes": "240",
    "blackout_dates": "2026-12-26\n2027-01-02",
}


def test_an_admin_sets_a_folders_window_on_its_page(client, tenant):
    client.force_login(tenant.admin.user)
    response = client.post(_folder_page(tenant, tenant.site_a), WINDOW_FORM)
    assert response.status_code == 302
    schedule = UpgradeSchedule.objects.get(folder=tenant.site_a)
    assert (schedule.weekdays, schedule.start_time) == (0b1100000, time(22))
    assert schedule.blackout_dates == ["2026-12-26", "2027-01-02"]


def test_the_page_shows_the_window_in_the_folder_zone_and_the_users_own(client, tenant):
    tenant.site_a.time_zone = "Europe/Stockholm"
    tenant.site_a.save()
    user = tenant.admin.user
    user.time_zone = "Asia/Tokyo"
    user.save()
    apply_schedule(actor=tenant.admin, spec=NIGHTLY, folder_ids=[tenant.site_a.pk])
    client.force_login(user)
    with time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=UTC), tick=False):
        page = client.get(_folder_page(tenant, tenant.building_a1)).content.decode()
    assert "Inherited from the folder “Site A”" in page
    assert "Europe/Stockholm" in page
    # Monday 23:30 in Stockholm (CEST) is Tuesday 06:30 in Tokyo.
    assert "Mon 2026-06-01 23:30 CEST" in page
    assert "Tue 2026-06-02 06:30 JST" in page
    assert "Monday, Tuesday, Wednesday, Thursday, Friday, 23:30 to 02:30 (the next day)" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weekdays": []}, "Choose at least one day of the week."),
        ({"start_time": ""}, "Give the time the window starts"),
        ({"duration_minutes": "2000"}, "less than or equal to 1440"),
        ({"blackout_dates": "Christmas"}, "is not a date such as 2026-12-24"),
    ],
)
def test_bad_input_on_the_page_is_refused_with_a_message(client, tenant, change, message):
    client.force_login(tenant.admin.user)
    response = client.post(_folder_page(tenant, tenant.site_a), {**WINDOW_FORM, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not UpgradeSchedule.objects.exists()


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_see_the_schedule_but_cannot_change_it(client, tenant, device, role):
    apply_schedule(actor=tenant.admin, spec=ASAP, folder_ids=[tenant.building_a1.pk])
    client.force_login(getattr(tenant, role).user)
    page = client.get(_device_page(tenant, device))
    assert page.status_code == 200
    assert "As soon as new software is available" in page.content.decode()
    assert 'name="mode"' not in page.content.decode()
    refused = client.post(_device_page(tenant, device), {"mode": "none"})
    assert refused.status_code == 403
    assert UpgradeSchedule.objects.get().mode == "asap"


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_set_a_devices_own_schedule(client, tenant, device, role):
    client.force_login(getattr(tenant, role).user)
    assert client.post(_device_page(tenant, device), {"mode": "asap"}).status_code == 302
    assert UpgradeSchedule.objects.get(device=device).mode == "asap"
    assert client.post(_device_page(tenant, device), {"mode": INHERIT}).status_code == 302
    assert not UpgradeSchedule.objects.exists()


def test_the_top_folder_has_no_inherit_choice(client, tenant):
    client.force_login(tenant.admin.user)
    page = client.get(_folder_page(tenant, tenant.top)).content.decode()
    assert 'value="inherit"' not in page
    page = client.get(_folder_page(tenant, tenant.site_a)).content.decode()
    assert 'value="inherit"' in page


def test_a_viewer_outside_their_grants_gets_404(client, tenant, device):
    client.force_login(tenant.viewer.user)
    assert client.get(_folder_page(tenant, tenant.site_b)).status_code == 404
    assert client.get(_device_page(tenant, DeviceFactory(folder=tenant.site_b))).status_code == 404


# --- API ---------------------------------------------------------------------------------


def _api(kind, tenant, target):
    return reverse(f"api:{kind}-schedule", args=[tenant.organization.pk, target.pk])


def _put(api, url, body):
    return api.client.put(url, body, content_type="application/json", headers=api.headers)


def test_the_api_sets_and_reads_a_folders_window(api, tenant, device):
    api.login(tenant.admin)
    body = {
        "mode": "window",
        "weekdays": [5, 6],
        "start_time": "22:00",
        "duration_minutes": 240,
        "blackout_dates": ["2026-12-26"],
    }
    response = _put(api, _api("folder", tenant, tenant.site_a), body)
    assert response.status_code == 200, response.json()
    assert response.json()["schedule"] == body
    answer = api.get(_api("device", tenant, device)).json()
    assert answer["schedule"] == {"mode": "inherit"}
    assert answer["effective"]["mode"] == "window"
    assert answer["effective"]["source_type"] == "folder"
    assert answer["effective"]["source_id"] == str(tenant.site_a.pk)
    assert answer["effective"]["time_zone"] == "UTC"
    assert answer["effective"]["next_window"]["start"].endswith("22:00:00Z")


def test_the_api_refuses_a_bad_schedule_with_the_field(api, tenant):
    api.login(tenant.admin)
    response = _put(api, _api("folder", tenant, tenant.site_a), {"mode": "window"})
    assert response.status_code == 400
    assert "weekdays" in str(response.json())
    response = _put(
        api,
        _api("folder", tenant, tenant.site_a),
        {"mode": "window", "weekdays": [1], "start_time": "25:00", "duration_minutes": 60},
    )
    assert response.status_code == 400
    assert not UpgradeSchedule.objects.exists()


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [("owner", 200, 200), ("admin", 200, 200), ("operator", 200, 403), ("viewer", 200, 403)],
)
def test_api_roles(api, tenant, device, role, read, write):
    api.login(getattr(tenant, role))
    assert api.get(_api("device", tenant, device)).status_code == read
    assert _put(api, _api("device", tenant, device), {"mode": "asap"}).status_code == write
    assert _put(api, _api("folder", tenant, tenant.building_a1), {"mode": "asap"}).status_code == (
        write
    )


def test_api_of_another_organization_is_404(api, tenant, other_tenant, device):
    api.login(other_tenant.admin)
    url = reverse("api:device-schedule", args=[other_tenant.organization.pk, device.pk])
    assert api.get(url).status_code == 404
    assert _put(api, url, {"mode": "asap"}).status_code == 404


# --- A selection in one action --------------------------------------------------------------


def _selection_url(tenant, folders=(), devices=()):
    query = "&".join([*(f"folder={f.pk}" for f in folders), *(f"device={d.pk}" for d in devices)])
    return reverse("upgrades:schedule-selection", args=[tenant.organization.pk]) + "?" + query


def test_an_admin_sets_one_schedule_on_a_selection_in_one_action(client, tenant, device):
    other = DeviceFactory(folder=tenant.site_b)
    url = _selection_url(tenant, folders=[tenant.site_a], devices=[device, other])
    client.force_login(tenant.admin.user)
    page = client.get(url).content.decode()
    assert all(name in page for name in (device.name, other.name, "Site A"))
    response = client.post(url, {"mode": "asap"})
    assert response.status_code == 302
    assert UpgradeSchedule.objects.filter(mode="asap").count() == 3
    assert AuditEvent.objects.filter(action="upgrade.schedule_set").count() == 3


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_the_selection_page_is_for_admins_only(client, tenant, device, role):
    client.force_login(getattr(tenant, role).user)
    url = _selection_url(tenant, devices=[device])
    assert client.get(url).status_code == 403
    assert client.post(url, {"mode": "asap"}).status_code == 403
    assert not UpgradeSchedule.objects.exists()


def test_a_selection_reaching_into_another_organization_is_404_and_changes_nothing(
    client, tenant, other_tenant, device
):
    client.force_login(tenant.admin.user)
    foreign = DeviceFactory(folder=other_tenant.top)
    url = _selection_url(tenant, devices=[device, foreign])
    assert client.post(url, {"mode": "asap"}).status_code == 404
    assert client.get(url.replace(str(foreign.pk), "junk")).status_code == 404
    assert not UpgradeSchedule.objects.exists()


def test_the_device_page_shows_its_recommendation(client, tenant, device):
    add_test_release("12.11.86", "P3265-V", fixes=(("CVE-2025-0324", "critical"),))
    client.force_login(tenant.viewer.user)
    page = client.get(_device_page(tenant, device)).content.decode()
    assert "Upgrade recommended: 12.11.86" in page
    assert "Security fix CVE-2025-0324" in page


def test_the_activity_log_names_a_schedule_change_in_words(client, tenant, device):
    apply_schedule(actor=tenant.admin, spec=ASAP, device_ids=[device.pk])
    client.force_login(tenant.owner.user)
    page = client.get(reverse("organizations:audit-event-list", args=[tenant.organization.pk]))
    assert "Software schedule changed" in page.content.decode()


def test_once_device_pages_exist_the_schedule_is_a_device_tab(client, tenant, device):
    client.force_login(tenant.admin.user)
    response = client.get(_device_page(tenant, device))
    assert response.status_code == 200
    assert [t.name for t in response.templates][:2] == [
        "upgrades/device_schedule.html",
        "devices/device_base.html",
    ]
    page = response.content.decode()
    assert 'class="nav-link active" aria-current="page"' in page
    assert 'name="mode"' in page


def test_a_viewer_is_not_told_the_name_of_a_folder_above_their_grants(client, api, tenant, device):
    apply_schedule(actor=tenant.admin, spec=ASAP, folder_ids=[tenant.site_a.pk])
    client.force_login(tenant.viewer.user)  # granted building_a1, below site_a
    page = client.get(_device_page(tenant, device)).content.decode()
    assert "Inherited from a folder above." in page
    assert "Site A" not in page
    api.login(tenant.viewer)
    effective = api.get(_api("device", tenant, device)).json()["effective"]
    assert (effective["mode"], effective["source_type"], effective["source_id"]) == (
        "asap",
        "folder",
        None,
    )
    api.login(tenant.operator)  # granted site_a itself
    assert api.get(_api("device", tenant, device)).json()["effective"]["source_id"] == str(
        tenant.site_a.pk
    )


def test_options_describes_the_schedule_routes(api, tenant, device):
    api.login(tenant.owner)
    for url in (_api("folder", tenant, tenant.top), _api("device", tenant, device)):
        response = api.client.options(url)
        assert response.status_code == 200
        assert "PUT" in response.json()["actions"]
