"""On a phone the side navigation folds away and tables stay readable in Japanese; the roles
dialog gives focus back when it closes."""

import pytest
from playwright.sync_api import Browser, expect

from organizations import services
from tests.accounts.factories import PASSWORD, UserFactory
from tests.organizations.factories import InvitationFactory, MembershipFactory, OrganizationFactory


def _signed_in_page(browser: Browser, live_server, user, width: int, locale: str = "en-US"):
    context = browser.new_context(viewport={"width": width, "height": 844}, locale=locale)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.locator("input[type=email]").fill(user.email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("input[type=password]").press("Enter")
    page.wait_for_url("**/dashboard/")
    return context, page


@pytest.mark.django_db(transaction=True)
def test_phone_menu_folds_the_side_navigation_and_opens_from_the_keyboard(
    browser: Browser, live_server
):
    owner = MembershipFactory(role="owner", user=UserFactory(name="Olivia Owner"))
    context, page = _signed_in_page(browser, live_server, owner.user, 390)
    page.goto(f"{live_server.url}/o/{owner.organization.pk}/")
    side = page.get_by_role("navigation", name="Side navigation")
    users_link = side.get_by_role("link", name="Users")
    expect(users_link).to_be_hidden()
    menu = side.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    page.keyboard.press("Enter")
    expect(users_link).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    context.close()

    context, page = _signed_in_page(browser, live_server, owner.user, 1280)
    page.goto(f"{live_server.url}/o/{owner.organization.pk}/")
    side = page.get_by_role("navigation", name="Side navigation")
    expect(side.get_by_role("link", name="Users")).to_be_visible()
    expect(side.get_by_role("button", name="Menu")).to_be_hidden()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_japanese_table_headings_stay_on_one_line_on_a_phone(browser: Browser, live_server):
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role="owner")
    InvitationFactory(organization=organization, email="someone@example.com")
    context, page = _signed_in_page(browser, live_server, owner.user, 390, locale="ja-JP")
    base = f"{live_server.url}/o/{organization.pk}"
    for url in (f"{base}/users/", f"{base}/settings/api-tokens/", f"{base}/activity/"):
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        for heading in page.locator("thead th").all():
            if not heading.is_visible():
                continue
            box = heading.bounding_box()
            assert box is not None
            # One line of text plus the cell's padding; a heading stacked a character a line
            # was several hundred pixels tall.
            assert box["height"] < 50, f"{url}: “{heading.inner_text()}” wraps"
    context.close()


@pytest.mark.django_db(transaction=True)
def test_closing_the_roles_dialog_returns_focus_to_the_members_menu_button(
    browser: Browser, live_server
):
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role="owner")
    viewer = MembershipFactory(organization=organization, role="viewer")
    context, page = _signed_in_page(browser, live_server, owner.user, 1280)
    page.goto(f"{live_server.url}/o/{organization.pk}/users/")
    actions = page.get_by_role("button", name=f"Actions for {viewer.user.email}")
    actions.focus()
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Roles and access").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Roles and access")
    expect(dialog.get_by_label("Role")).to_be_visible()
    expect(dialog).to_be_focused()  # once it has finished opening
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(actions).to_be_focused()

    # Cancel inside the dialog closes it too, without leaving the page.
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Roles and access").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_focused()
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(actions).to_be_focused()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_copy_button_copies_the_organization_id_and_says_so(browser: Browser, live_server):
    owner = MembershipFactory(role="owner")
    context, page = _signed_in_page(browser, live_server, owner.user, 390)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/o/{owner.organization.pk}/settings/")
    copy = page.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()
    copy = page.locator("button[data-copy-target=organization-id]")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == str(owner.organization.pk)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_wide_activity_table_stays_beside_the_side_navigation(browser: Browser, live_server):
    organization = OrganizationFactory(name="Fleet with a rather long organization name Ltd")
    owner = MembershipFactory(organization=organization, role="owner")
    for number in range(3):
        services.invite_members(
            actor=owner,
            emails=[f"someone.with.a.long.address.{number}@subsidiary.example.com"],
            role="viewer",
            folder_ids=[organization.top_folder.pk],
        )
    context, page = _signed_in_page(browser, live_server, owner.user, 1280, locale="ja-JP")
    page.goto(f"{live_server.url}/o/{organization.pk}/activity/")
    main = page.locator("main").bounding_box()
    side = page.get_by_role("navigation", name="サイドナビゲーション").bounding_box()
    assert main is not None
    assert side is not None
    assert main["x"] >= side["x"] + side["width"] - 1, "the page fell below the side navigation"
    assert main["y"] == side["y"]
    context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_a_members_menu_is_not_cut_off_by_a_short_table(browser: Browser, live_server, width):
    owner = MembershipFactory(role="owner")
    context, page = _signed_in_page(browser, live_server, owner.user, width)
    page.goto(f"{live_server.url}/o/{owner.organization.pk}/users/")
    page.get_by_role("button", name=f"Actions for {owner.user.email}").click()
    item = page.get_by_role("link", name="Remove user")
    expect(item).to_be_visible()
    # The element at the item's centre is the item itself, not the page behind a clipped menu.
    on_top = item.evaluate(
        """item => {
            const box = item.getBoundingClientRect();
            const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return item.contains(hit);
        }"""
    )
    assert on_top
    context.close()
