"""The time-zone picker filters as one types; the Users search follows the typing (htmx)."""

import pytest
from playwright.sync_api import Browser, expect

from tests.accounts.factories import UserFactory
from tests.browser.test_phone_and_keyboard import _signed_in_page
from tests.organizations.factories import MembershipFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_the_time_zone_picker_finds_a_place_by_typing(browser: Browser, live_server, width):
    user = UserFactory()
    context, page = _signed_in_page(browser, live_server, user, width)
    page.goto(f"{live_server.url}/accounts/profile/")
    search = page.get_by_role("searchbox", name="Search time zones")
    search.fill("tokyo")
    picker = page.locator("#id_time_zone")
    expect(picker).to_have_value("Asia/Tokyo")
    visible = picker.evaluate("s => Array.from(s.options).filter(o => !o.hidden).map(o => o.value)")
    assert visible == ["Asia/Tokyo"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile was saved.")).to_be_visible()
    user.refresh_from_db()
    assert user.time_zone == "Asia/Tokyo"
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_users_search_narrows_the_list_as_one_types(browser: Browser, live_server):
    owner = MembershipFactory(role="owner")
    vera = MembershipFactory(
        organization=owner.organization, role="admin", user=UserFactory(name="Vera Viewer")
    )
    context, page = _signed_in_page(browser, live_server, owner.user, 1280)
    page.goto(f"{live_server.url}/o/{owner.organization.pk}/users/")
    rows = page.locator("#member-table tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("searchbox", name="Search users").press_sequentially("vera", delay=20)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(vera.user.email)
    assert page.url.endswith("?q=vera")
    context.close()
