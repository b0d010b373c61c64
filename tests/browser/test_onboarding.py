"""Onboarding in a real browser under the production CSP: one camera over HTTPS from the folder
page (the pinned fingerprint is shown), then a CSV file with a good and a refused line."""

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_content_security_policy import Watcher, _sign_in
from tests.organizations.factories import FolderFactory, MembershipFactory, OrganizationFactory


@pytest.mark.django_db(transaction=True)
def test_an_admin_onboards_a_camera_and_imports_a_csv(
    browser: Browser, live_server, clean_camera_fleet
):
    organization = OrganizationFactory(name="Harbor Security")
    admin = MembershipFactory(organization=organization, role="admin")
    FolderFactory(parent=organization.top_folder, name="North site")
    https_camera, good, bad = clean_camera_fleet.cameras[:3]
    context = browser.new_context(locale="en-US")
    watcher = Watcher(context)
    page = context.new_page()
    _sign_in(page, live_server.url, admin.user.email)

    page.goto(f"{live_server.url}/o/{organization.pk}/folders/")
    page.get_by_role("link", name="North site", exact=True).click()
    page.get_by_role("link", name="Onboard device").click()
    folder_choice = page.get_by_label("Folder").locator("option:checked")
    expect(folder_choice).to_have_text("North site", use_inner_text=True)
    page.get_by_label("Address").fill(https_camera.host)
    page.get_by_label("Port").fill(str(https_camera.https_port))
    page.get_by_label("Scheme").select_option("https")
    page.get_by_label("User name").fill("root")
    page.get_by_label("Password", exact=True).fill(https_camera.password)
    page.get_by_role("button", name="Onboard device").click()
    fingerprint = https_camera.certificate_sha256.replace(":", "").lower()
    expect(page.locator("#pinned-fingerprint")).to_have_text(fingerprint)

    page.get_by_role("link", name="Back to the folder").click()
    page.get_by_role("link", name="Import devices").click()
    content = (
        "host,port,username,password\n"
        f"{good.host},{good.port},root,{good.password}\n"
        f"{bad.host},{bad.port},root,not-the-password\n"
    )
    page.get_by_label("CSV file").set_input_files(
        {"name": "cameras.csv", "mimeType": "text/csv", "buffer": content.encode()}
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_text("The device refused the user name or password.")).to_be_visible()
    page.get_by_role("button", name="Onboard 1 device").click()
    expect(page.get_by_text("Onboarded", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Download results (CSV)")).to_be_visible()
    assert watcher.problems == []
    context.close()
