"""Setting a maintenance window with the keyboard on a phone, and reading it back in the
folder's time zone with the reader's own beside it."""

import pytest
from playwright.sync_api import Browser, expect

from tests.accounts.factories import PASSWORD, UserFactory
from tests.organizations.factories import FolderFactory, MembershipFactory, OrganizationFactory
from upgrades.models import UpgradeSchedule


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_an_admin_sets_a_window_and_sees_it_in_both_time_zones(
    browser: Browser, live_server, width
):
    organization = OrganizationFactory()
    site = FolderFactory(
        parent=organization.top_folder, name="Stockholm", time_zone="Europe/Stockholm"
    )
    admin = MembershipFactory(
        organization=organization, role="admin", user=UserFactory(time_zone="Asia/Tokyo")
    )
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.locator("input[type=email]").fill(admin.user.email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("input[type=password]").press("Enter")
    page.wait_for_url("**/dashboard/")
    page.goto(f"{live_server.url}/o/{organization.pk}/upgrades/folders/{site.pk}/schedule/")

    page.get_by_label("Software schedule").select_option("window")
    page.get_by_label("Saturday").check()
    page.get_by_label("Start time").fill("23:30")
    page.get_by_label("Duration (minutes)").fill("180")
    page.get_by_label("Duration (minutes)").press("Enter")

    expect(page.get_by_text("The schedule is saved.")).to_be_visible()
    expect(page.locator("#schedule-summary")).to_have_text(
        "Saturday, 23:30 to 02:30 (the next day)"
    )
    table = page.locator("#upcoming-windows")
    expect(table.locator("thead")).to_contain_text("Europe/Stockholm")
    expect(table.locator("thead")).to_contain_text("Asia/Tokyo")
    expect(table.locator("tbody tr")).to_have_count(3)
    # Saturday 23:30 in Stockholm is Sunday morning in Tokyo.
    expect(table.locator("tbody tr").first.locator("td").first).to_contain_text("Sat")
    expect(table.locator("tbody tr").first.locator("td").nth(1)).to_contain_text("Sun")
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
    schedule = UpgradeSchedule.objects.get(folder=site)
    assert (schedule.mode, schedule.weekdays, schedule.duration_minutes) == ("window", 1 << 5, 180)
