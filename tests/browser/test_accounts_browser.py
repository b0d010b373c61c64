"""A device's accounts tab and its removal in Chromium, against a simulated camera: on a phone,
with the keyboard, and no password anywhere on the pages."""

import pytest
from playwright.sync_api import Browser, expect

from devices.models import Device
from devices.vapix import VapixClient
from tests.accounts.factories import PASSWORD
from tests.devices.onboarded import onboard
from tests.organizations.factories import MembershipFactory

NEW_ACCOUNT_PASSWORD = "Browser-marker-9f3"


def _signed_in_page(browser: Browser, live_server, user, width: int):
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.locator("input[type=email]").fill(user.email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("input[type=password]").press("Enter")
    page.wait_for_url("**/dashboard/")
    return context, page


@pytest.mark.django_db(transaction=True)
def test_an_admin_creates_an_account_with_the_keyboard_on_a_phone_then_removes_the_device(
    browser: Browser, live_server, clean_camera_fleet
):
    admin = MembershipFactory(role="admin")
    camera = clean_camera_fleet.by_product("P3265-V")
    device = onboard(admin, admin.organization.top_folder, camera)
    context, page = _signed_in_page(browser, live_server, admin.user, 390)
    base = f"{live_server.url}/o/{admin.organization.pk}/devices/{device.pk}"

    page.goto(f"{base}/accounts/")
    root_row = page.locator("#account-root")
    expect(root_row).to_contain_text("Used by this service")
    expect(root_row.get_by_role("link", name="Delete")).to_have_count(0)
    # The page fits the phone: wide tables scroll in their own box, not the whole page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_label("Account name").focus()
    page.keyboard.type("nocuser")
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_ACCOUNT_PASSWORD)
    page.get_by_label("Role").select_option("operator")
    page.get_by_label("Role").press("Tab")  # to "May control PTZ"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # to "Create account"
    page.keyboard.press("Enter")
    expect(page.locator("#account-nocuser")).to_contain_text("Operator")
    expect(page.locator("#account-nocuser")).to_contain_text("Yes")  # PTZ
    expect(page.locator("#messages")).to_contain_text("is created on the device")
    assert NEW_ACCOUNT_PASSWORD not in page.content()
    with VapixClient(
        camera.host, port=camera.port, username="nocuser", password=NEW_ACCOUNT_PASSWORD
    ) as account_client:
        assert account_client.whoami().name == "nocuser"

    # The device page's dialog loads the confirmation; confirming removes the device.
    page.goto(base + "/")
    page.get_by_role("link", name="Remove device").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("#removal-consequences")).to_contain_text("password of the device")
    dialog.get_by_role("button", name="Remove device").click()
    expect(page.locator("#messages")).to_contain_text("is removed from the organization")
    assert not Device.objects.filter(pk=device.pk).exists()
    context.close()
