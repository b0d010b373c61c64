"""The organization flow in a real browser: set up, build folders, invite a viewer to one
folder, the viewer joins and sees only that subtree, the owner archives by pasting the ID."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from tests.accounts.factories import PASSWORD, UserFactory


def _sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/sign-in/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def _new_folder(page: Page, parent: str, name: str) -> None:
    page.get_by_role("button", name=f"Actions for folder {parent}", exact=True).click()
    page.get_by_role("link", name="New folder here").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create folder").click()
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_owner_sets_up_invites_a_viewer_to_one_folder_and_archives(
    page: Page, browser: Browser, live_server
):
    base = live_server.url
    owner = UserFactory(name="Olivia Owner")
    _sign_in(page, base, owner.email)

    # The setup assistant, from the organization menu.
    top_bar = page.get_by_role("navigation", name="Top bar")
    top_bar.get_by_role("button", name="Organization menu").click()
    top_bar.get_by_role("link", name="+ Create new organization").click()
    page.get_by_label("Name").fill("Harbor")
    page.get_by_label("First folders (optional)").fill("North site\nSouth site")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_text("Harbor is ready. You are its owner.")).to_be_visible()

    # Folders: a building and a room under the north site.
    page.get_by_role("navigation", name="Side navigation").get_by_role(
        "link", name="Folders"
    ).click()
    _new_folder(page, "North site", "Building N1")
    _new_folder(page, "Building N1", "Room N1a")
    south_url = page.get_by_role("link", name="South site", exact=True).get_attribute("href")

    # Invite a viewer to the north site only.
    page.get_by_role("navigation", name="Side navigation").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Invite users").first.click()
    page.get_by_label("E-mail addresses").fill("vera@example.com")
    expect(page.get_by_label("Role")).to_have_value("viewer")
    page.get_by_label("North site").check()
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_text("Invitations created for: vera@example.com.")).to_be_visible()
    invitation_row = page.get_by_role("row", name="vera@example.com")
    expect(invitation_row.get_by_role("cell", name="North site", exact=True)).to_be_visible()
    expect(invitation_row.get_by_role("cell", name="Sent", exact=True)).to_be_visible()
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)

    # The viewer, in a browser of her own, creates her account from the link and joins.
    viewer_context = browser.new_context()
    viewer_page = viewer_context.new_page()
    viewer_page.goto(link)
    expect(viewer_page.get_by_role("heading", name="Join Harbor")).to_be_visible()
    viewer_page.get_by_label("Your name").fill("Vera Viewer")
    viewer_page.get_by_label("Password").fill("vera-long-password-1")
    viewer_page.get_by_role("button", name="Create account and continue").click()
    expect(viewer_page.get_by_text("Welcome to Harbor.")).to_be_visible()
    viewer_page.get_by_role("navigation", name="Side navigation").get_by_role(
        "link", name="Folders"
    ).click()
    tree = viewer_page.get_by_role("list", name="Folder tree")
    for name in ("North site", "Building N1", "Room N1a"):
        expect(tree.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(tree.get_by_role("link", name="South site", exact=True)).to_have_count(0)
    expect(tree.get_by_role("link", name="Harbor", exact=True)).to_have_count(0)
    response = viewer_page.goto(f"{base}{south_url}")
    assert response.status == 404
    viewer_context.close()

    # The owner archives the organization by pasting its ID.
    page.get_by_role("navigation", name="Side navigation").get_by_role(
        "link", name="Settings"
    ).click()
    page.get_by_role("link", name="Archive").click()
    organization_id = page.get_by_label("ID of this organization").input_value()
    page.get_by_label("Organization ID", exact=True).fill(organization_id)
    page.get_by_label("I understand the risks").check()
    page.get_by_role("button", name="Archive organization").click()
    expect(page.get_by_text("Harbor is archived.")).to_be_visible()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    top_bar.get_by_role("button", name="Organization menu").click()
    expect(top_bar.get_by_role("link", name="Harbor", exact=True)).to_have_count(0)
