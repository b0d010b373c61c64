"""Activity on a phone and with a wrong date range."""

import pytest
from playwright.sync_api import Browser, expect

from organizations import services
from tests.browser.test_phone_and_keyboard import _signed_in_page
from tests.organizations.factories import MembershipFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_activity_events_are_readable_and_a_wrong_range_moves_nothing(
    browser: Browser, live_server, width
):
    owner = MembershipFactory(role="owner")
    services.update_organization(
        actor=owner, name="Nordic A/S with a rather long name", notes="Call Ann first"
    )
    context, page = _signed_in_page(browser, live_server, owner.user, width)
    url = f"{live_server.url}/o/{owner.organization.pk}/activity/"
    page.goto(url)
    row = page.locator("#activity tbody tr").first
    expect(row).to_contain_text("Name:")
    for cell in row.locator("td").all():
        box = cell.bounding_box()
        assert box is not None
        # Stacked on a phone: every cell has the card's width, not a 40 px column.
        least = 300 if width < 768 else 60
        assert box["width"] > least, f"{width} px: “{cell.inner_text()}” is squeezed"
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    def field_tops():
        return [
            page.locator(f"#id_{name}").bounding_box()["y"]
            for name in ("actor", "action", "since", "until")
        ]

    before = field_tops()
    page.locator("#id_since").fill("2030-01-02")
    page.locator("#id_until").fill("2030-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("The end comes before the start.")).to_be_visible()
    assert field_tops() == before
    context.close()
