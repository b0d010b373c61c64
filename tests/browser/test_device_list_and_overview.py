"""Device list, device page and fleet overview in a real browser under the production policy:
the firmware chart is drawn by the vendored Chart.js, "select all" and the bulk move work."""

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from devices.models import Device
from tests.browser.test_content_security_policy import Watcher, _sign_in, _visit
from tests.devices.factories import DeviceFactory
from tests.support.cast import build_tenant


@pytest.fixture
def tenant(db):
    tenant = build_tenant("Harbor Security")
    for index in range(3):
        DeviceFactory(folder=tenant.site_a, name=f"Dock {index}", firmware_version="11.9.1")
    DeviceFactory(
        folder=tenant.site_b, name="Gate", firmware_version="10.12.3", status="auth_failed"
    )
    return tenant


@pytest.mark.django_db(transaction=True)
def test_overview_draws_the_firmware_chart_without_a_policy_violation(
    browser: Browser, live_server, tenant
):
    context = browser.new_context(locale="ja-JP")
    watcher = Watcher(context)
    page = context.new_page()
    _sign_in(page, live_server.url, tenant.admin.user.email)
    organization = tenant.organization.pk
    _visit(
        page,
        f"{live_server.url}{reverse('organizations:organization-detail', args=[organization])}",
        watcher,
    )
    # Chart.js marks the canvas it drew on; an empty canvas would be a blank data URL.
    page.wait_for_function("() => window.Chart && Chart.getChart('firmware-chart') !== undefined")
    drawn = page.evaluate(
        "() => { const c = document.getElementById('firmware-chart');"
        " const blank = document.createElement('canvas'); blank.width = c.width;"
        " blank.height = c.height; return c.toDataURL() !== blank.toDataURL(); }"
    )
    assert drawn
    expect(page.locator("#fleet-attention")).to_contain_text("Gate")
    title = _visit(
        page, f"{live_server.url}{reverse('devices:device-list', args=[organization])}", watcher
    )
    assert title == "デバイス"
    gate = Device.objects.get(name="Gate")
    _visit(
        page,
        f"{live_server.url}{reverse('devices:device-detail', args=[organization, gate.pk])}",
        watcher,
    )
    assert watcher.problems == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_select_all_then_move_the_page_to_another_folder(browser: Browser, live_server, tenant):
    context = browser.new_context()
    watcher = Watcher(context)
    page = context.new_page()
    _sign_in(page, live_server.url, tenant.admin.user.email)
    url = reverse("devices:device-list", args=[tenant.organization.pk])
    page.goto(f"{live_server.url}{url}?folder={tenant.site_a.pk}")
    page.get_by_label("Select all on this page").check()
    expect(page.locator("input[name=selection]:checked")).to_have_count(3)
    page.locator("#id_bulk_folder").select_option(str(tenant.room_a1x.pk))
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#messages, .alert").first).to_contain_text(
        "3 devices moved to “Room A1x”."
    )
    # Back on the same filtered list, now empty: the devices left Site A.
    expect(page.locator("#device-count")).to_contain_text("0 devices")
    assert Device.objects.filter(folder=tenant.room_a1x).count() == 3
    assert watcher.problems == []
    context.close()
