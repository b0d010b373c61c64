"""System setup with the keyboard, on a phone and a desktop: register hardware, then allocate
an extension to it from its page."""

import pytest
from playwright.sync_api import Browser, expect

from licensing import ledger, services
from licensing.models import LedgerAccount
from tests.accounts.factories import PASSWORD
from tests.licensing.factories import HardwareModelFactory, ProductFactory, issue_key
from tests.organizations.factories import MembershipFactory, OrganizationFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_an_admin_registers_hardware_and_allocates_an_extension_to_it(
    browser: Browser, live_server, width
):
    organization = OrganizationFactory()
    admin = MembershipFactory(organization=organization, role="admin")
    product = ProductFactory(name="Camera Station Pro")
    HardwareModelFactory(product=product, model_number="S3008", name="Recorder", preloaded_count=8)
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    services.redeem_license_key(
        actor=admin, key=issue_key(product, quantity=3, kind="hardware_extension")
    )
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.locator("input[type=email]").fill(admin.user.email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("input[type=password]").press("Enter")
    page.wait_for_url("**/dashboard/")
    page.goto(f"{live_server.url}/o/{organization.pk}/licensing/systems/")

    page.get_by_label("Hardware model").select_option(
        label="S3008 · Recorder (Camera Station Pro, 8 pre-loaded licenses)"
    )
    page.get_by_label("Serial number").fill("accc8e0a1b2c")
    page.get_by_label("Serial number").press("Enter")
    expect(page.get_by_text("its 8 pre-loaded licenses are active")).to_be_visible()
    expect(page.get_by_role("heading", name="Hardware ACCC8E0A1B2C")).to_be_visible()

    page.get_by_label("Licenses to allocate").fill("3")
    page.get_by_label("Licenses to allocate").press("Enter")
    expect(page.get_by_text("3 licenses are allocated to ACCC8E0A1B2C.")).to_be_visible()
    expect(page.get_by_role("link", name="Download license file")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
    system = LedgerAccount.objects.get(kind="hardware_system", system="ACCC8E0A1B2C")
    assert system.balance == 11
    assert ledger.verify() is None
