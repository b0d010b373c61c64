"""Pages fit a phone (390 px) as well as a desktop (1280 px): nothing spills sideways."""

import pytest
from playwright.sync_api import Browser, expect

from tests.accounts.factories import PASSWORD, UserFactory
from tests.organizations.factories import FolderFactory, MembershipFactory, OrganizationFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_main_pages_fit_the_screen_width(browser: Browser, live_server, width):
    organization = OrganizationFactory(name="Fleet with a rather long organization name Ltd")
    FolderFactory(parent=organization.top_folder, name="Building with a long name, north wing")
    owner = MembershipFactory(
        organization=organization, role="owner", user=UserFactory(name="Maximilian Longname-Owner")
    )
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("E-mail address").fill(owner.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    base = f"{live_server.url}/o/{organization.pk}"
    for url in (
        f"{live_server.url}/dashboard/",
        f"{base}/",
        f"{base}/folders/",
        f"{base}/users/",
        f"{base}/settings/",
        f"{base}/settings/api-tokens/",
        f"{base}/activity/",
        f"{live_server.url}/accounts/security/",
    ):
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, url
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page.url} is {overflow}px wider than a {width}px screen"
    context.close()
