"""Edge recordings through the service: list (time range, pages) and playback, by role."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from devices import streams
from devices.vapix import VapixClient
from devices.views import recordings as recording_views
from tests.devices.live_support import (  # noqa: F401
    device_for,
    frames_of,
    fresh_cache,
    leave,
    wait_for_no_streams,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def camera(clean_camera_fleet):
    return clean_camera_fleet.by_product("P3265-V")


@pytest.fixture
def device(camera, folders):
    return device_for(camera, folders.building_a1)


@pytest.fixture
def on_camera(camera):
    """The camera's recordings as the camera lists them, oldest first."""
    with VapixClient(
        camera.host, port=camera.port, username=camera.username, password=camera.password
    ) as client:
        return sorted(client.list_recordings(), key=lambda recording: recording.start_time)


def _list_url(device, **query):
    url = reverse("devices:device-recordings", args=[device.organization_id, device.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _play_url(device, recording_id):
    return reverse(
        "devices:device-recording-play", args=[device.organization_id, device.pk, recording_id]
    )


def _listed_ids(response):
    return re.findall(r"play=([0-9A-Za-z_]+)", response.content.decode())


def test_an_operator_lists_the_recordings_newest_first(client, operator, device, on_camera):
    client.force_login(operator.user)
    response = client.get(_list_url(device))
    assert response.status_code == 200
    assert _listed_ids(response) == [r.recording_id for r in reversed(on_camera)]
    assert "Recordings" in response.content.decode()


def test_the_time_range_narrows_the_list(client, operator, device, on_camera):
    client.force_login(operator.user)
    newest = on_camera[-1]
    # In UTC (the member has no time zone of their own): from a minute before the newest starts.
    since = (newest.start_time - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.get(_list_url(device, start=since))
    assert _listed_ids(response) == [newest.recording_id]
    until = (on_camera[0].stop_time + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.get(_list_url(device, stop=until))
    assert on_camera[0].recording_id in _listed_ids(response)
    assert newest.recording_id not in _listed_ids(response)


def test_a_backwards_range_is_refused_on_the_field(client, operator, device):
    client.force_login(operator.user)
    response = client.get(_list_url(device, start="2030-01-02T00:00", stop="2030-01-01T00:00"))
    assert response.status_code == 200
    assert "The end comes before the start." in response.content.decode()
    assert _listed_ids(response) == []


def test_the_list_is_paged(client, operator, device, on_camera, monkeypatch):
    monkeypatch.setattr(recording_views, "RECORDINGS_PER_PAGE", 2)
    client.force_login(operator.user)
    first = _listed_ids(client.get(_list_url(device)))
    second = _listed_ids(client.get(_list_url(device, page=2)))
    assert first == [r.recording_id for r in reversed(on_camera)][:2]
    assert second == [r.recording_id for r in reversed(on_camera)][2:4]


def test_playback_streams_the_recording_and_lets_go_of_the_camera(
    client, operator, device, camera, on_camera, clean_camera_fleet
):
    client.force_login(operator.user)
    recording = on_camera[0]
    page = client.get(_list_url(device, play=recording.recording_id)).content.decode()
    assert f'src="{_play_url(device, recording.recording_id)}"' in page
    response = client.get(_play_url(device, recording.recording_id))
    assert response.status_code == 200
    assert response["Content-Type"] == streams.MJPEG_CONTENT_TYPE
    frames = frames_of(response, 2)
    assert all(frame.startswith(b"\xff\xd8") for frame in frames)
    leave(response)
    assert wait_for_no_streams(clean_camera_fleet, camera.serial) == 0
    assert streams.open_slots(operator.user.pk) == 0


def test_playback_counts_against_the_stream_limit(client, operator, device, on_camera, settings):
    settings.DEVICE_STREAMS_PER_USER = 1
    client.force_login(operator.user)
    live = client.get(reverse("devices:device-mjpeg", args=[device.organization_id, device.pk]))
    assert live.status_code == 200
    refused = client.get(_play_url(device, on_camera[0].recording_id))
    assert refused.status_code == 429
    leave(live)


def test_an_unknown_recording_is_404_and_frees_the_slot(client, operator, device):
    client.force_login(operator.user)
    response = client.get(_play_url(device, "20200101_000000_FFFF_NOSUCH"))
    assert response.status_code == 404
    assert response.content.decode() == "Recording not found."
    assert streams.open_slots(operator.user.pk) == 0


def test_a_play_parameter_that_is_no_recording_id_plays_nothing(client, operator, device):
    client.force_login(operator.user)
    response = client.get(_list_url(device, play="a%2Fb"))
    assert response.status_code == 200
    assert "playback-image" not in response.content.decode()


def test_an_offline_camera_shows_why_there_is_no_list(
    client, admin, device, camera, clean_camera_fleet
):
    clean_camera_fleet.set_fault(camera.serial, "offline")
    client.force_login(admin.user)
    response = client.get(_list_url(device))
    assert response.status_code == 200
    assert "The device could not be reached." in response.content.decode()


def test_a_viewer_may_not_list_or_play_recordings(client, viewer, device, on_camera):
    client.force_login(viewer.user)
    assert client.get(_list_url(device)).status_code == 403
    assert client.get(_play_url(device, on_camera[0].recording_id)).status_code == 403
    assert streams.open_slots(viewer.user.pk) == 0
    live = client.get(reverse("devices:device-live", args=[device.organization_id, device.pk]))
    assert _list_url(device) not in live.content.decode()


@pytest.mark.parametrize("who", ["owner", "admin", "operator"])
def test_operators_and_above_have_the_recordings_tab(client, tenant, who, device):
    client.force_login(getattr(tenant, who).user)
    live = client.get(reverse("devices:device-live", args=[device.organization_id, device.pk]))
    assert _list_url(device) in live.content.decode()
    assert client.get(_list_url(device)).status_code == 200


def test_an_operator_outside_the_folder_and_other_tenants_get_404(
    client, operator, other_tenant, camera, folders, clean_camera_fleet
):
    elsewhere = device_for(camera, folders.site_b)
    for member in (operator, other_tenant.owner):
        client.force_login(member.user)
        assert client.get(_list_url(elsewhere)).status_code == 404
        assert client.get(_play_url(elsewhere, "x")).status_code == 404
    assert clean_camera_fleet.open_streams(camera.serial) == 0
