"""Live view through the service: snapshot and MJPEG from the simulator, the stream limit,
closing the device connection when the viewer leaves, errors, and what each role may see."""

import time

import pytest
import requests
from django.urls import reverse

from devices import streams
from devices.models import Device
from devices.vapix.streams import iter_mjpeg_frames
from tests.devices.live_support import (  # noqa: F401
    device_for,
    frames_of,
    fresh_cache,
    leave,
    wait_for_no_streams,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def _url(name, device, **query):
    url = reverse(f"devices:{name}", args=[device.organization_id, device.pk])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


@pytest.fixture
def camera(clean_camera_fleet):
    return clean_camera_fleet.by_product("P3265-V")


@pytest.fixture
def device(camera, folders):
    """The P3265-V in Building A1: the viewer's and the operator's grants both reach it."""
    return device_for(camera, folders.building_a1)


def _secrets_of(camera):
    return [camera.password, f"{camera.host}:{camera.port}", camera.host]


def _assert_nothing_of_the_device_in(response, camera):
    headers = "\n".join(f"{key}: {value}" for key, value in response.items())
    body = b"" if response.streaming else response.content
    for secret in _secrets_of(camera):
        assert secret not in headers
        assert secret.encode() not in body


def test_the_simulator_counts_the_streams_it_is_sending(camera, clean_camera_fleet):
    """The counter the closing tests rely on: up while a stream runs, down once it is closed."""
    control = f"{clean_camera_fleet.control_url}/streams"
    auth = requests.auth.HTTPDigestAuth(camera.username, camera.password)
    url = f"{camera.base_url}/axis-cgi/mjpg/video.cgi?resolution=320x240"
    with requests.get(url, auth=auth, stream=True, timeout=10) as stream:
        assert next(stream.iter_content(1024))
        assert requests.get(control, timeout=5).json()["cameras"][camera.serial] == 1
        assert clean_camera_fleet.open_streams() == 1
        assert clean_camera_fleet.state(camera.serial)["open_streams"] == 1
    assert wait_for_no_streams(clean_camera_fleet, camera.serial) == 0
    assert requests.get(control, timeout=5).json()["total"] == 0


def test_a_viewer_gets_a_snapshot_through_the_service(client, viewer, device, camera):
    client.force_login(viewer.user)
    response = client.get(_url("device-snapshot", device))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8\xff")
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in str(
        response["Cache-Control"]
    )
    _assert_nothing_of_the_device_in(response, camera)


def test_the_snapshot_download_is_a_file_named_after_the_device(client, viewer, device):
    client.force_login(viewer.user)
    response = client.get(_url("device-snapshot", device, download=1, resolution="320x240"))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="AXIS-P3265-V-')
    assert disposition.endswith('.jpg"')


def test_the_mjpeg_proxy_streams_real_frames_and_closes_the_device_connection(
    client, viewer, device, camera, clean_camera_fleet
):
    client.force_login(viewer.user)
    response = client.get(_url("device-mjpeg", device, fps=10, resolution="320x240"))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == streams.MJPEG_CONTENT_TYPE
    assert response["X-Accel-Buffering"] == "no"
    frames = frames_of(response, 3)
    assert all(frame.startswith(b"\xff\xd8") for frame in frames)
    assert clean_camera_fleet.open_streams(camera.serial) == 1
    assert streams.open_slots(viewer.user.pk) == 1
    _assert_nothing_of_the_device_in(response, camera)
    # The viewer leaves: the server closes the answer, which must close the camera's stream.
    leave(response)
    assert wait_for_no_streams(clean_camera_fleet, camera.serial) == 0
    assert streams.open_slots(viewer.user.pk) == 0


def test_a_stream_closed_before_its_first_byte_is_read_still_lets_go(
    client, viewer, device, camera, clean_camera_fleet
):
    client.force_login(viewer.user)
    response = client.get(_url("device-mjpeg", device))
    assert response.status_code == 200
    leave(response)
    assert wait_for_no_streams(clean_camera_fleet, camera.serial) == 0
    assert streams.open_slots(viewer.user.pk) == 0


def test_the_fifth_stream_is_refused_until_one_closes(
    client, viewer, device, camera, clean_camera_fleet, settings
):
    settings.DEVICE_STREAMS_PER_USER = 4
    client.force_login(viewer.user)
    open_responses = [client.get(_url("device-mjpeg", device)) for _ in range(4)]
    assert [response.status_code for response in open_responses] == [200] * 4
    assert clean_camera_fleet.open_streams(camera.serial) == 4

    refused = client.get(_url("device-mjpeg", device))
    assert refused.status_code == 429
    assert "You already have 4 live streams open" in refused.content.decode()
    assert refused["X-Camfleet-Error"] == "stream_limit"
    # The refusal opened nothing on the camera.
    assert clean_camera_fleet.open_streams(camera.serial) == 4

    leave(open_responses.pop())
    again = client.get(_url("device-mjpeg", device))
    assert again.status_code == 200
    leave(again)
    for response in open_responses:
        leave(response)
    assert wait_for_no_streams(clean_camera_fleet, camera.serial) == 0


def test_the_limit_is_per_person(client, viewer, operator, device, settings):
    settings.DEVICE_STREAMS_PER_USER = 1
    client.force_login(viewer.user)
    first = client.get(_url("device-mjpeg", device))
    assert client.get(_url("device-mjpeg", device)).status_code == 429
    client.force_login(operator.user)
    second = client.get(_url("device-mjpeg", device))
    assert second.status_code == 200
    leave(first)
    leave(second)


def test_a_slot_of_a_process_that_died_expires(viewer, monkeypatch, settings):
    """A slot nobody releases (the process crashed) frees itself after its time to live."""
    settings.DEVICE_STREAMS_PER_USER = 1
    monkeypatch.setattr(streams, "STREAM_SLOT_TTL", 1)
    streams.acquire_slot(viewer.user.pk)  # never released
    with pytest.raises(streams.StreamLimitReached):
        streams.acquire_slot(viewer.user.pk)
    time.sleep(1.2)
    streams.acquire_slot(viewer.user.pk).release()


def test_a_running_stream_keeps_its_slot_alive(viewer, monkeypatch, settings):
    settings.DEVICE_STREAMS_PER_USER = 1
    monkeypatch.setattr(streams, "STREAM_SLOT_TTL", 1)
    monkeypatch.setattr(streams, "STREAM_SLOT_REFRESH", 0)
    slot = streams.acquire_slot(viewer.user.pk)
    for _ in range(4):
        time.sleep(0.4)
        slot.refresh()
    with pytest.raises(streams.StreamLimitReached):
        streams.acquire_slot(viewer.user.pk)
    slot.release()
    streams.acquire_slot(viewer.user.pk).release()


def test_an_offline_camera_answers_a_clear_message_and_a_placeholder_image(
    client, viewer, device, camera, clean_camera_fleet
):
    clean_camera_fleet.set_fault(camera.serial, "offline")
    client.force_login(viewer.user)
    for name in ("device-mjpeg", "device-snapshot"):
        response = client.get(_url(name, device))
        assert response.status_code == 502
        assert response["Content-Type"].startswith("text/plain")
        text = response.content.decode()
        assert text.startswith("The device could not be reached.")
        assert "Traceback" not in text
        _assert_nothing_of_the_device_in(response, camera)

        image = client.get(_url(name, device), HTTP_ACCEPT=IMAGE_ACCEPT)
        assert image.status_code == 502
        assert image["Content-Type"] == "image/svg+xml"
        assert b"The device could not be reached." in image.content
        _assert_nothing_of_the_device_in(image, camera)
    # A failed stream gives its slot back.
    assert streams.open_slots(viewer.user.pk) == 0


def test_wrong_credentials_and_a_changed_certificate_are_named(
    client, viewer, device, camera, clean_camera_fleet
):
    client.force_login(viewer.user)
    clean_camera_fleet.set_fault(camera.serial, "wrong-credentials")
    response = client.get(_url("device-mjpeg", device))
    assert response.status_code == 502
    assert response["X-Camfleet-Error"] == "auth_failed"
    assert "refused the user name or password" in response.content.decode()
    clean_camera_fleet.clear_faults(camera.serial)

    Device.objects.filter(pk=device.pk).update(status=Device.Status.CERTIFICATE_CHANGED)
    response = client.get(_url("device-snapshot", device))
    assert response.status_code == 502
    assert response["X-Camfleet-Error"] == "certificate_untrusted"
    assert streams.open_slots(viewer.user.pk) == 0


def test_a_resolution_the_device_refuses_shows_its_refusal(client, viewer, device):
    client.force_login(viewer.user)
    response = client.get(_url("device-mjpeg", device, resolution="1234x567"))
    assert response.status_code == 502
    assert "The device refused: Error: resolution 1234x567 is not supported." in (
        response.content.decode()
    )
    malformed = client.get(_url("device-mjpeg", device, resolution="big"))
    assert malformed.status_code == 400
    assert malformed.content.decode() == "The resolution must look like 640x360."
    assert client.get(_url("device-mjpeg", device, fps=1000)).status_code == 400


def test_the_live_page_shows_the_stream_and_the_device_choices(client, viewer, device, camera):
    client.force_login(viewer.user)
    response = client.get(_url("device-live", device, resolution="320x240", fps=5))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="{_url("device-mjpeg", device)}?fps=5&amp;resolution=320x240"' in html
    assert _url("device-snapshot", device) + "?download=1" in html
    # The device's own resolutions are offered, and nothing else.
    assert '<option value="1280x720">1280x720</option>' in html
    assert "768x576" not in html
    _assert_nothing_of_the_device_in(response, camera)
    # A viewer sees no restart, no PTZ and no recordings tab.
    assert _url("device-restart", device) not in html
    assert _url("device-recordings", device) not in html


def test_the_live_page_of_an_offline_device_still_opens(
    client, viewer, device, camera, clean_camera_fleet
):
    clean_camera_fleet.set_fault(camera.serial, "offline")
    client.force_login(viewer.user)
    response = client.get(_url("device-live", device))
    assert response.status_code == 200
    assert "Device default" in response.content.decode()


def test_the_live_view_and_its_refusals_speak_japanese(client, viewer, device, settings):
    settings.DEVICE_STREAMS_PER_USER = 1
    client.force_login(viewer.user)
    page = client.get(_url("device-live", device), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "ライブビュー" in page
    assert "スナップショットをダウンロード" in page
    first = client.get(_url("device-mjpeg", device))
    refused = client.get(_url("device-mjpeg", device), HTTP_ACCEPT_LANGUAGE="ja")
    assert refused.status_code == 429
    assert "ライブ配信をすでに 1 件開いており" in refused.content.decode()
    leave(first)


def test_a_silent_device_holds_the_live_page_briefly_and_once(
    client, viewer, device, camera, clean_camera_fleet
):
    clean_camera_fleet.set_fault(camera.serial, "hang")
    client.force_login(viewer.user)
    started = time.monotonic()
    assert client.get(_url("device-live", device)).status_code == 200
    first = time.monotonic() - started
    started = time.monotonic()
    assert client.get(_url("device-live", device)).status_code == 200
    second = time.monotonic() - started
    assert first < 7
    assert second < 1  # the failure is remembered for a minute
    clean_camera_fleet.clear_faults(camera.serial)


@pytest.mark.parametrize("who", ["owner", "admin", "operator", "viewer"])
def test_every_role_may_watch_a_device_in_its_folders(client, tenant, who, device):
    client.force_login(getattr(tenant, who).user)
    assert client.get(_url("device-live", device)).status_code == 200
    response = client.get(_url("device-snapshot", device))
    assert response.status_code == 200


def test_a_viewer_outside_the_devices_folder_gets_404_without_touching_it(
    client, viewer, folders, camera, clean_camera_fleet
):
    elsewhere = device_for(camera, folders.site_b)
    client.force_login(viewer.user)
    started = time.monotonic()
    for name in ("device-live", "device-snapshot", "device-mjpeg"):
        assert client.get(_url(name, elsewhere)).status_code == 404
    assert time.monotonic() - started < 2
    assert clean_camera_fleet.open_streams(camera.serial) == 0
    assert streams.open_slots(viewer.user.pk) == 0


def test_another_organizations_member_gets_404(client, other_tenant, device):
    client.force_login(other_tenant.owner.user)
    for name in ("device-live", "device-snapshot", "device-mjpeg"):
        assert client.get(_url(name, device)).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_real_server_stops_the_camera_stream_when_the_viewer_disconnects(
    live_server, client, viewer, device, camera, clean_camera_fleet
):
    client.force_login(viewer.user)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    url = live_server.url + _url("device-mjpeg", device, fps=10, resolution="320x240")
    with requests.get(url, cookies=cookies, stream=True, timeout=10) as response:
        assert response.status_code == 200
        boundary = response.headers["Content-Type"].split("boundary=")[1]
        frames = iter_mjpeg_frames(response.iter_content(8192), boundary)
        jpegs = [next(frames).jpeg for _ in range(3)]
        assert all(jpeg.startswith(b"\xff\xd8") for jpeg in jpegs)
        assert clean_camera_fleet.open_streams(camera.serial) == 1
    # The connection to the service is gone: it must drop the camera's stream and the slot.
    assert wait_for_no_streams(clean_camera_fleet, camera.serial, timeout=10) == 0
    deadline = time.monotonic() + 5
    while streams.open_slots(viewer.user.pk) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert streams.open_slots(viewer.user.pk) == 0
