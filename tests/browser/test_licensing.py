"""Licensing in a browser: redeem a key, then review and confirm an allocation, at phone and
desktop widths, under the strict Content-Security-Policy."""

import pytest
from playwright.sync_api import Browser, expect

from licensing import services
from licensing.models import LedgerAccount
from organizations.models import Folder
from tests.browser.test_phone_and_keyboard import _signed_in_page
from tests.devices.factories import DeviceFactory
from tests.licensing.factories import ProductFactory, issue_key
from tests.organizations.factories import MembershipFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_an_admin_redeems_a_key_and_allocates_to_the_need(browser: Browser, live_server, width):
    admin = MembershipFactory(role="admin")
    product = ProductFactory(name="Camera Station")
    top = Folder.objects.get(organization=admin.organization, parent=None)
    DeviceFactory.create_batch(3, folder=top)
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    key = issue_key(product, quantity=5)
    context, page = _signed_in_page(browser, live_server, admin.user, width)
    refused = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content" in message.text else None,
    )
    base = f"{live_server.url}/o/{admin.organization.pk}/licensing/"

    page.goto(base + "wallet/")
    page.get_by_label("License key").fill(key)
    page.get_by_role("button", name="Redeem").click()
    expect(page.get_by_text("5 licenses of Camera Station are in the wallet")).to_be_visible()
    expect(page.locator("#wallet tbody tr").first).to_contain_text("5")

    page.goto(base + f"products/{product.code}/licensing/")
    expect(page.locator("#need")).to_have_text("3")
    # The count proposed is what the need lacks; reviewing moves nothing yet.
    expect(page.get_by_label("Licenses to allocate")).to_have_value("3")
    page.get_by_role("button", name="Review allocation").click()
    expect(page.locator("#allocation-preview")).to_contain_text("Allocate 3 licenses to year 1.")
    assert not LedgerAccount.objects.filter(kind="subscription_year", balance__gt=0).exists()
    confirm = page.get_by_role("button", name="Confirm allocation")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.get_by_text("3 licenses allocated to year 1.")).to_be_visible()
    expect(
        page.locator("#license-status, .badge").filter(has_text="Fully licensed").first
    ).to_be_visible()
    expect(page.locator("#wallet-count")).to_have_text("2")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not refused, refused
    context.close()
