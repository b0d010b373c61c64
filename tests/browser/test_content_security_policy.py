"""Every main page under the production Content-Security-Policy: no violation, no console error,
a page title that names the page in both languages, and the interactive parts still work."""

import re
from datetime import timedelta

import pytest
from csp.utils import build_policy
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from organizations import services
from tests.accounts.factories import PASSWORD, UserFactory
from tests.config.test_content_security_policy import directives
from tests.organizations.factories import (
    FolderFactory,
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
)

# Pages named after a record (an organization, a folder) keep that name in either language.
NAMED_AFTER_A_RECORD = {"organization overview", "folder"}


def _has_production_policy(headers: dict[str, str]) -> bool:
    """Tell whether the answer carries the policy (the same as in production: tests/config)."""
    return directives(headers.get("content-security-policy", "")) == directives(build_policy())


class Watcher:
    """Collect CSP violations (reported by the page itself) and console errors of a context."""

    def __init__(self, context: BrowserContext) -> None:
        self.problems: list[str] = []
        context.expose_binding("reportViolation", lambda source, text: self.problems.append(text))
        # Init scripts are added by the browser itself, not by the page: the CSP does not apply.
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', (event) =>"
            " window.reportViolation(`CSP violation on ${location.pathname}:"
            " ${event.violatedDirective} blocked ${event.blockedURI}"
            " (${event.sourceFile}:${event.lineNumber})`));"
        )
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"page error: {error.error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            where = message.page.url if message.page else "?"
            self.problems.append(f"console {message.type} on {where}: {message.text}")


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/sign-in/")
    page.locator("input[type=email]").fill(email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("input[type=password]").press("Enter")
    page.wait_for_url("**/dashboard/")


def _visit(page: Page, url: str, watcher: Watcher) -> str:
    """Open `url`, check its CSP header and title; return the page's name from the title."""
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, f"{url} answered {response.status}"
    assert _has_production_policy(response.headers), url
    title = page.title()
    match = re.fullmatch(r"(\S.*\S) · camfleet", title)
    assert match, f"{url}: the title {title!r} does not read 'Page · camfleet'"
    return match.group(1)


@pytest.fixture
def fleet(db):
    organization = OrganizationFactory(name="Harbor Security")
    owner = MembershipFactory(
        organization=organization, role="owner", user=UserFactory(name="Olivia Owner")
    )
    MembershipFactory(organization=organization, role="viewer")
    folder = FolderFactory(parent=organization.top_folder, name="North site")
    InvitationFactory(organization=organization, email="someone@example.com")
    services.create_api_token(
        actor=owner, name="Backup script", expires_on=timezone.localdate() + timedelta(days=30)
    )
    return organization, owner, folder


def _pages(organization, folder) -> dict[str, str]:
    org = organization.pk
    return {
        "dashboard": reverse("dashboard"),
        "organization overview": reverse("organizations:organization-detail", args=[org]),
        "folders": reverse("organizations:folder-list", args=[org]),
        "folder": reverse("organizations:folder-detail", args=[org, folder.pk]),
        "new folder": reverse("organizations:folder-create", args=[org, folder.pk]),
        "users": reverse("organizations:member-list", args=[org]),
        "invite": reverse("organizations:invitation-create", args=[org]),
        "activity": reverse("organizations:audit-event-list", args=[org]),
        "settings": reverse("organizations:organization-settings", args=[org]),
        "security settings": reverse("organizations:organization-security", args=[org]),
        "API tokens": reverse("organizations:token-list", args=[org]),
        "archive": reverse("organizations:organization-archive", args=[org]),
        "new organization": reverse("organizations:organization-create"),
        "security": reverse("accounts:security"),
        "add authenticator app": reverse("accounts:enrol-totp"),
        "add e-mail codes": reverse("accounts:enrol-email"),
        "profile": reverse("accounts:profile"),
        "password": reverse("accounts:password-change"),
        "security exposure": reverse("upgrades:security-exposure", args=[org]),
        "folder schedule": reverse("upgrades:folder-schedule", args=[org, folder.pk]),
        "schedule selection": reverse("upgrades:schedule-selection", args=[org])
        + f"?folder={folder.pk}",
        "system setup": reverse("licensing:system-list", args=[org]),
        "upload system file": reverse("licensing:system-file-upload", args=[org]),
        "upgrade licenses": reverse("licensing:upgrade-list", args=[org]),
        "upgrade tasks": reverse("upgrades:task-list", args=[org]),
    }


@pytest.mark.django_db(transaction=True)
def test_every_main_page_runs_under_the_production_policy_without_a_violation(
    browser: Browser, live_server, fleet
):
    assert directives(build_policy())["script-src"] == "'self'"
    organization, owner, folder = fleet
    base = live_server.url
    names: dict[str, dict[str, str]] = {}
    for locale in ("en-US", "ja-JP"):
        context = browser.new_context(locale=locale)
        watcher = Watcher(context)
        page = context.new_page()
        names[locale] = {}
        for name, path in (
            ("sign-in", reverse("accounts:login")),
            ("sign-up", reverse("accounts:sign-up")),
            ("password reset", reverse("accounts:password-reset")),
        ):
            names[locale][name] = _visit(page, f"{base}{path}", watcher)
        _sign_in(page, base, owner.user.email)
        for name, path in _pages(organization, folder).items():
            names[locale][name] = _visit(page, f"{base}{path}", watcher)
        assert watcher.problems == []
        context.close()
    for name, english in names["en-US"].items():
        japanese = names["ja-JP"][name]
        if name in NAMED_AFTER_A_RECORD:
            assert japanese == english
        else:
            assert japanese != english, f"the {name} page's title is not translated: {english}"


@pytest.mark.django_db(transaction=True)
def test_api_docs_run_under_the_policy(browser: Browser, live_server, fleet):
    _organization, owner, _folder = fleet
    context = browser.new_context()
    watcher = Watcher(context)
    page = context.new_page()
    _sign_in(page, live_server.url, owner.user.email)
    response = page.goto(f"{live_server.url}{reverse('api-docs')}")
    assert response is not None
    assert _has_production_policy(response.headers)
    expect(page).to_have_title("API documentation · camfleet")
    # Swagger UI started from its script file, read the schema and lists the operations.
    expect(page.get_by_role("heading", name=re.compile("camfleet API"))).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert watcher.problems == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_admin_runs_under_the_policy(browser: Browser, live_server, fleet):
    organization, _owner, _folder = fleet
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    context = browser.new_context()
    watcher = Watcher(context)
    page = context.new_page()

    # The admin sends a visitor to the account pages' sign-in, then back.
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/\?next=%2Fadmin%2F$"))
    page.locator("input[type=email]").fill(staff.email)
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("input[type=password]").press("Enter")
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_label("Code").fill(f"{code:06d}")
    page.get_by_label("Code").press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    for path in (
        reverse("admin:organizations_organization_changelist"),
        reverse("admin:organizations_organization_change", args=[organization.pk]),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:upgrades_firmwarerelease_add"),
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 200, path
        assert _has_production_policy(response.headers)
        page.wait_for_load_state("networkidle")
    # The admin's own script still runs: its navigation sidebar folds away.
    page.get_by_role("button", name=re.compile("Toggle navigation")).click()
    expect(page.locator("#nav-sidebar")).to_be_hidden()
    assert watcher.problems == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_menus_copy_buttons_and_htmx_work_under_the_policy(browser: Browser, live_server, fleet):
    organization, owner, _folder = fleet
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    watcher = Watcher(context)
    page = context.new_page()
    _sign_in(page, live_server.url, owner.user.email)
    base = f"{live_server.url}/o/{organization.pk}"

    # A Bootstrap dropdown.
    page.goto(f"{base}/")
    top_bar = page.get_by_role("navigation", name="Top bar")
    top_bar.get_by_role("button", name="Organization menu: Harbor Security").click()
    expect(top_bar.get_by_role("link", name="+ Create new organization")).to_be_visible()

    # A copy button (static/js/camfleet.js).
    page.goto(f"{base}/settings/")
    copy = page.locator("button[data-copy-target=organization-id]")
    copy.click()
    expect(copy).to_have_text("Copied")

    # An htmx action with its confirmation: the row is swapped in place.
    page.goto(f"{base}/settings/api-tokens/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Backup script").click()
    expect(page.get_by_text("Revoked", exact=True)).to_be_visible()
    assert page.evaluate("htmx.config.allowEval") is False

    # A dialog loaded by htmx, closed again.
    page.goto(f"{base}/users/")
    page.locator("table button[data-bs-toggle=dropdown]").last.click()
    page.get_by_role("link", name="Roles and access").click()
    dialog = page.get_by_role("dialog", name="Roles and access")
    expect(dialog.get_by_label("Role")).to_be_visible()
    expect(dialog).to_be_focused()  # once it has finished opening
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The error page's "Go back" link (organizations/error.html, no javascript: address) goes
    # back in history; here one like it is added to a page reached from the folders.
    page.goto(f"{base}/folders/")
    page.goto(f"{base}/activity/")
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<a href=\"/dashboard/\" data-history-back>Go back</a>')"
    )
    page.get_by_role("link", name="Go back").click()
    expect(page).to_have_url(f"{base}/folders/")
    assert watcher.problems == []
    context.close()
