"""The live view in a real browser: frames from the simulated camera change on screen, and the
camera's stream ends once the page is left."""

import hashlib
import time

import pytest
from django.urls import reverse
from playwright.sync_api import Browser

from devices import streams
from tests.browser.test_content_security_policy import Watcher
from tests.browser.test_phone_and_keyboard import _signed_in_page
from tests.devices.live_support import device_for, wait_for_no_streams
from tests.organizations.factories import MembershipFactory

IMAGE = "#live-image"


def _picture_hash(page) -> str:
    """Hash the pixels the browser shows for the live image (a screenshot of the element)."""
    return hashlib.sha256(page.locator(IMAGE).screenshot()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_the_live_view_shows_changing_frames_and_lets_go_of_the_camera_when_left(
    browser: Browser, live_server, clean_camera_fleet
):
    viewer = MembershipFactory(role="owner")
    camera = clean_camera_fleet.by_product("P3265-V")
    device = device_for(camera, viewer.organization.top_folder)
    context, page = _signed_in_page(browser, live_server, viewer.user, 1280)
    watcher = Watcher(context)
    live = reverse("devices:device-live", args=[device.organization_id, device.pk])
    page.goto(f"{live_server.url}{live}?resolution=320x240&fps=10")

    page.wait_for_function(f"document.querySelector('{IMAGE}').naturalWidth > 0")
    assert page.evaluate(f"document.querySelector('{IMAGE}').naturalWidth") == 320
    source = page.locator(IMAGE).get_attribute("src")
    assert camera.host not in source
    assert clean_camera_fleet.open_streams(camera.serial) == 1

    # The simulator stamps each frame with the time: within a few seconds the picture changes.
    first = _picture_hash(page)
    deadline = time.monotonic() + 6
    later = first
    while later == first and time.monotonic() < deadline:
        time.sleep(0.3)
        later = _picture_hash(page)
    assert later != first, "the live image never changed"

    page.goto(f"{live_server.url}/dashboard/")
    assert wait_for_no_streams(clean_camera_fleet, camera.serial, timeout=10) == 0
    deadline = time.monotonic() + 5
    while streams.open_slots(viewer.user.pk) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert streams.open_slots(viewer.user.pk) == 0
    assert watcher.problems == []
    context.close()


def _set_visibility(page, state: str) -> None:
    """Make the page believe its tab was hidden or shown again (headless tabs never are)."""
    page.evaluate(
        "state => { Object.defineProperty(document, 'visibilityState',"
        " {value: state, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        state,
    )


@pytest.mark.django_db(transaction=True)
def test_a_hidden_tab_stops_the_stream_and_a_visible_one_starts_it_again(
    browser: Browser, live_server, clean_camera_fleet
):
    owner = MembershipFactory(role="owner")
    camera = clean_camera_fleet.by_product("M1075-L")
    device = device_for(camera, owner.organization.top_folder)
    context, page = _signed_in_page(browser, live_server, owner.user, 1280)
    live = reverse("devices:device-live", args=[device.organization_id, device.pk])
    page.goto(f"{live_server.url}{live}")
    page.wait_for_function(f"document.querySelector('{IMAGE}').naturalWidth > 0")
    assert clean_camera_fleet.open_streams(camera.serial) == 1

    _set_visibility(page, "hidden")
    assert wait_for_no_streams(clean_camera_fleet, camera.serial, timeout=10) == 0

    _set_visibility(page, "visible")
    deadline = time.monotonic() + 5
    while clean_camera_fleet.open_streams(camera.serial) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert clean_camera_fleet.open_streams(camera.serial) == 1
    context.close()
    assert wait_for_no_streams(clean_camera_fleet, camera.serial, timeout=10) == 0
