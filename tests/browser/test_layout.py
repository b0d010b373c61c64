"""Pages fit a phone (390 px) as well as a desktop (1280 px): nothing spills sideways."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from organizations import services
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_long_unbroken_names_wrap_instead_of_widening_the_page(
    browser: Browser, live_server, width
):
    # The longest names the fields take, in the widest letter and without a space to break at.
    organization_name, folder_name, person_name = "W" * 120, "M" * 120, "N" * 150
    owner = UserFactory(name=person_name)
    organization = services.create_organization(
        user=owner, name=organization_name, folder_names=[folder_name]
    )
    membership = organization.memberships.get(user=owner)
    folder = organization.folders.get(name=folder_name)
    services.create_folder(actor=membership, parent_id=folder.pk, name="Q" * 120)
    viewer = MembershipFactory(
        organization=organization, role="viewer", user=UserFactory(name="V" * 150)
    )
    services.change_member(
        actor=membership, member_id=viewer.pk, role="viewer", folder_ids=[folder.pk]
    )
    services.create_api_token(
        actor=membership, name="T" * 80, expires_on=timezone.localdate() + timedelta(days=9)
    )
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("E-mail address").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    base = f"{live_server.url}/o/{organization.pk}"
    for url in (
        f"{live_server.url}/dashboard/",
        f"{base}/",
        f"{base}/folders/",
        f"{base}/folders/{folder.pk}/",
        f"{base}/folders/{folder.pk}/rename/",
        f"{base}/users/",
        f"{base}/users/invite/",
        f"{base}/settings/",
        f"{base}/settings/api-tokens/",
        f"{base}/activity/",
        f"{live_server.url}/accounts/profile/",
    ):
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, url
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page.url} is {overflow}px wider than a {width}px screen"

    # The organization menu lists the name too, and must open within the screen.
    page.goto(f"{base}/")
    top_bar = page.get_by_role("navigation", name="Top bar")
    top_bar.get_by_role("button", name=f"Organization menu: {organization_name}").click()
    expect(top_bar.get_by_role("link", name=organization_name)).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the open organization menu is {overflow}px wider than the screen"
    context.close()
