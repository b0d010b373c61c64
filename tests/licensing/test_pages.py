"""The licensing pages: every page for admins in both languages, each action as the service does
it (and bad input leaving the ledger as it was, with the message), and 404 for everyone else."""

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from licensing import services
from licensing.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    ProductRegistration,
    Reseller,
)
from organizations.models import Folder
from organizations.roles import Role
from tests.devices.factories import DeviceFactory
from tests.licensing.factories import ProductFactory, fill_wallet, issue_key
from tests.organizations.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def product(db):
    return ProductFactory(code="camera-station", name="Camera Station")


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin.user)
    return client


def page(organization, name: str, product=None) -> str:
    args = [organization.pk] if product is None else [organization.pk, product.code]
    return reverse(f"licensing:{name}", args=args)


def ledger_state() -> tuple:
    """Everything a licensing action could change, to show that a refusal changed nothing."""
    return (
        LedgerTransaction.objects.count(),
        LedgerEntry.objects.count(),
        sorted(LedgerAccount.objects.values_list("pk", "balance")),
        ProductRegistration.objects.count(),
    )


def wallet_of(member, product) -> int:
    account = LedgerAccount.objects.filter(
        organization=member.organization,
        product=product,
        kind="wallet",
        license_kind="subscription",
    ).first()
    return account.balance if account else 0


def allocated(member, product, year: int) -> int:
    account = LedgerAccount.objects.filter(
        organization=member.organization, product=product, kind="subscription_year", year=year
    ).first()
    return account.balance if account else 0


def add_devices(member, count: int) -> None:
    top = Folder.objects.get(organization=member.organization, parent=None)
    DeviceFactory.create_batch(count, folder=top)


def text(response) -> str:
    return response.content.decode()


PAGES = [
    ("product-list", False, ""),
    ("reseller-list", False, ""),
    ("wallet", False, ""),
    ("history", False, ""),
    ("product-detail", True, ""),
    ("product-start", True, "?kind=subscription"),
    ("product-licensing", True, ""),
    ("product-transfer", True, ""),
]
# A phrase of each page, shown translated on the Japanese page.
PHRASES = {
    "product-list": "Where to buy licenses",
    "reseller-list": "Show resellers",
    "wallet": "Licenses in the wallet",
    "history": "Export CSV",
    "product-detail": "Subscription licenses in the wallet",
    "product-start": "Start subscription",
    "product-licensing": "Subscription years",
    "product-transfer": "Transfer licenses to another organization",
}


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize(("name", "of_product", "query"), PAGES)
def test_every_page_renders_for_an_admin_in_both_languages(
    as_admin, admin, product, language, name, of_product, query
):
    fill_wallet(admin, product, 5)
    add_devices(admin, 1)
    url = page(admin.organization, name, product if of_product else None) + query
    response = as_admin.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert f'<html lang="{language}">' in text(response)
    with translation.override(language):
        phrase, licensing = gettext(PHRASES[name]), gettext("Licensing")
    if language == "ja":
        assert (phrase, licensing) != (PHRASES[name], "Licensing"), "translate the page"
    assert phrase in text(response)
    assert licensing in text(response)


@pytest.mark.parametrize("who", ["operator", "viewer", "outsider"])
@pytest.mark.parametrize(("name", "of_product", "query"), PAGES)
def test_licensing_pages_do_not_exist_for_operators_viewers_and_outsiders(
    client, request, organization, product, who, name, of_product, query
):
    person = request.getfixturevalue(who)
    client.force_login(person.user if hasattr(person, "user") else person)
    url = page(organization, name, product if of_product else None) + query
    assert client.get(url).status_code == 404
    assert client.post(url, {"key": "x", "count": 1, "year": 1}).status_code == 404


def test_the_side_navigation_offers_licensing_to_admins_only(client, admin, operator):
    licensing = page(admin.organization, "product-list")
    overview = reverse("organizations:organization-detail", args=[admin.organization.pk])
    client.force_login(admin.user)
    assert licensing in text(client.get(overview))
    client.force_login(operator.user)
    assert licensing not in text(client.get(overview))


# --- Product list, overview, start ------------------------------------------------------------


def test_the_product_list_says_started_grace_end_and_short_by(as_admin, admin, product):
    add_devices(admin, 3)
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    grace_end = (timezone.now().date() + timedelta(days=30)).isoformat()
    body = text(as_admin.get(page(admin.organization, "product-list")))
    assert "Subscription has started" in body
    assert grace_end in body
    assert "Short by 3 licenses" in body
    assert page(admin.organization, "product-detail", product) in body
    assert page(admin.organization, "reseller-list") in body


def test_a_fully_licensed_product_says_so(as_admin, admin, product):
    fill_wallet(admin, product, 2)
    add_devices(admin, 1)
    services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=1)
    body = text(as_admin.get(page(admin.organization, "product-list")))
    assert "Fully licensed" in body
    assert "Short by" not in body


def test_start_subscription_shows_the_grace_period_end_before_starting(as_admin, admin, product):
    url = page(admin.organization, "product-start", product)
    response = as_admin.get(url + "?kind=subscription")
    grace_end = (timezone.now().date() + timedelta(days=30)).isoformat()
    assert grace_end in text(response)
    assert ProductRegistration.objects.count() == 0
    response = as_admin.post(url, {"kind": "subscription"})
    assert response.status_code == 302
    registration = ProductRegistration.objects.get(organization=admin.organization)
    assert registration.subscription_started_on == timezone.now().date()
    followed = as_admin.get(response["Location"])
    assert "The subscription of Camera Station has started." in text(followed)


def test_start_trial_starts_a_trial(as_admin, admin, product):
    response = as_admin.post(page(admin.organization, "product-start", product), {"kind": "trial"})
    assert response.status_code == 302
    registration = ProductRegistration.objects.get(organization=admin.organization)
    assert registration.trial_started_on
    assert not registration.subscription_started_on


def test_start_with_an_unknown_kind_is_not_found_and_starts_nothing(as_admin, admin, product):
    url = page(admin.organization, "product-start", product)
    assert as_admin.get(url + "?kind=forever").status_code == 404
    assert as_admin.post(url, {"kind": "forever"}).status_code == 404
    assert ProductRegistration.objects.count() == 0


def test_an_unknown_product_is_not_found(as_admin, admin):
    url = reverse("licensing:product-detail", args=[admin.organization.pk, "no-such-product"])
    assert as_admin.get(url).status_code == 404


# --- Redeeming --------------------------------------------------------------------------------


def test_redeeming_a_key_on_the_wallet_page_fills_the_wallet(as_admin, admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    key = issue_key(product, quantity=7)
    response = as_admin.post(page(admin.organization, "wallet"), {"key": key.lower()})
    assert response.status_code == 302
    assert wallet_of(admin, product) == 7
    redemption = LedgerTransaction.objects.get(kind="redeem")
    assert redemption.actor_user == admin.user
    body = text(as_admin.get(response["Location"]))
    assert "7 licenses of Camera Station are in the wallet" in body
    expires = (timezone.now().date().replace(year=timezone.now().year + 5)).isoformat()
    assert expires in body


def _refused_redeem(client, member, data: dict, status: int, message: str, url=None):
    before = ledger_state()
    response = client.post(url or page(member.organization, "wallet"), data)
    assert response.status_code == status
    assert message in text(response)
    assert ledger_state() == before


def test_redeem_errors_are_clear_and_change_nothing(as_admin, admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    key = issue_key(product, quantity=3)
    typo = key[:-1] + ("A" if key[-1] != "A" else "B")
    _refused_redeem(as_admin, admin, {"key": "short"}, 400, "A license key has 24 letters")
    _refused_redeem(as_admin, admin, {"key": typo}, 400, "This key has a typo")
    _refused_redeem(as_admin, admin, {"key": ""}, 400, "Enter the license key.")
    other = ProductFactory(name="Body Worn")
    services.start_product(actor=admin, product_code=other.code, kind="trial")
    _refused_redeem(
        as_admin,
        admin,
        {"key": issue_key(other), "product": product.code},
        400,
        "This key is for Body Worn; redeem it on that product&#x27;s page.",
    )
    services.redeem_license_key(actor=admin, key=key)
    _refused_redeem(as_admin, admin, {"key": key}, 409, "Your organization already redeemed")


def test_an_unknown_key_is_refused(as_admin, admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    from licensing import keys

    unknown = keys.generate()
    _refused_redeem(as_admin, admin, {"key": unknown}, 400, "No license key matches")


def test_wrong_keys_are_throttled_on_the_page_too(as_admin, admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    for _attempt in range(services.REDEEM_FAILURE_LIMIT):
        as_admin.post(page(admin.organization, "wallet"), {"key": "wrong"})
    good = issue_key(product)
    _refused_redeem(as_admin, admin, {"key": good}, 429, "Too many wrong license keys")


def test_redeeming_from_the_product_page_returns_to_it(as_admin, admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="trial")
    response = as_admin.post(
        page(admin.organization, "wallet"), {"key": issue_key(product), "product": product.code}
    )
    assert response["Location"] == page(admin.organization, "product-detail", product)
    assert wallet_of(admin, product) == 10


# --- Allocating -------------------------------------------------------------------------------


def test_reviewing_then_confirming_allocates_once(as_admin, admin, product):
    fill_wallet(admin, product, 10)
    add_devices(admin, 4)
    url = page(admin.organization, "product-licensing", product)
    body = text(as_admin.get(url))
    assert 'id="need">4<' in body
    # Review first: nothing moves, the confirmation carries a fresh idempotency key.
    before = ledger_state()
    review = as_admin.post(url, {"year": 1, "count": 4})
    assert review.status_code == 200
    assert ledger_state() == before
    assert "Allocate 4 licenses to year 1." in text(review)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', text(review))[1]
    confirm = {"year": 1, "count": 4, "idempotency_key": key, "confirm": "1"}
    assert as_admin.post(url, confirm).status_code == 302
    assert as_admin.post(url, confirm).status_code == 302  # a second click
    assert allocated(admin, product, 1) == 4
    assert wallet_of(admin, product) == 6
    assert LedgerTransaction.objects.filter(kind="allocate").count() == 1
    assert "Fully licensed" in text(as_admin.get(url))


def test_confirm_is_disabled_with_the_reason_when_the_wallet_is_short(as_admin, admin, product):
    fill_wallet(admin, product, 2)
    add_devices(admin, 5)
    url = page(admin.organization, "product-licensing", product)
    body = text(as_admin.get(url))
    assert "The wallet holds 2 subscription licenses; 5 are needed" in body
    review = text(as_admin.post(url, {"year": 1, "count": 5}))
    assert re.search(r'id="confirm-allocation"[^>]* disabled', review)
    assert "the wallet holds only 2 subscription licenses" in review
    # Sent anyway: the service refuses, and nothing moves.
    key = re.search(r'name="idempotency_key" value="([^"]+)"', review)[1]
    before = ledger_state()
    response = as_admin.post(url, {"year": 1, "count": 5, "idempotency_key": key, "confirm": "1"})
    assert response.status_code == 409
    assert "Not enough licenses: 2 available, 5 needed." in text(response)
    assert ledger_state() == before


def test_a_year_beyond_five_ahead_is_not_offered(as_admin, admin, product):
    fill_wallet(admin, product, 10)
    url = page(admin.organization, "product-licensing", product)
    before = ledger_state()
    response = as_admin.post(url, {"year": 7, "count": 1, "confirm": "1"})
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)
    assert ledger_state() == before
    assert 'value="6"' in text(as_admin.get(url))


def test_a_late_allocation_shows_its_compensation_before_confirming(client, admin, product):
    started = timezone.now() - timedelta(days=100)
    with time_machine.travel(started, tick=False):
        add_devices(admin, 3)
        fill_wallet(admin, product, 10)
    client.force_login(admin.user)
    url = page(admin.organization, "product-licensing", product)
    before = ledger_state()
    review = text(client.post(url, {"year": 1, "count": 3}))
    days = (timezone.now().date() - started.date()).days
    assert f"Compensation: {3 * days} license-days" in review
    assert ledger_state() == before
    key = re.search(r'name="idempotency_key" value="([^"]+)"', review)[1]
    client.post(url, {"year": 1, "count": 3, "idempotency_key": key, "confirm": "1"})
    assert allocated(admin, product, 1) == 3
    registration = ProductRegistration.objects.get(organization=admin.organization)
    assert registration.compensation_license_days == (3 * days) % 365


def test_growth_beyond_the_allowance_says_how_many_to_allocate_now(as_admin, admin, product):
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        add_devices(admin, 1)
        fill_wallet(admin, product, 10)
        services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=1)
    add_devices(admin, 4)  # mid-year: 5 in use, 2 allowed, the need stays 1
    body = text(as_admin.get(page(admin.organization, "product-licensing", product)))
    assert "5 devices in use; up to 2 allowed this year" in body
    assert "Exceeded: allocate 3 licenses now." in body
    assert 'name="count" value="3"' in body


# --- Transfers --------------------------------------------------------------------------------


@pytest.fixture
def second(admin):
    """Another organization where the admin is an admin too."""
    return MembershipFactory(user=admin.user, organization=OrganizationFactory(), role=Role.ADMIN)


def _walk_transfer(client, url, count: int, target) -> str:
    step1 = client.post(url, {"step": "target", "license_kind": "subscription", "count": count})
    assert step1.status_code == 200
    assert 'name="target_organization"' in text(step1)
    data = {
        "step": "summary",
        "license_kind": "subscription",
        "count": count,
        "target_organization": target.pk,
    }
    summary = client.post(url, data)
    assert summary.status_code == 200
    return text(summary)


def test_the_transfer_wizard_waits_as_pending_and_lands_when_the_target_starts(
    as_admin, admin, product, second
):
    fill_wallet(admin, product, 10)
    url = page(admin.organization, "product-transfer", product)
    summary = _walk_transfer(as_admin, url, 4, second.organization)
    assert "wait as a pending transfer" in summary
    assert LedgerTransaction.objects.filter(kind="transfer").count() == 0
    key = re.search(r'name="idempotency_key" value="([^"]+)"', summary)[1]
    confirm = {
        "step": "confirm",
        "license_kind": "subscription",
        "count": 4,
        "target_organization": second.organization.pk,
        "idempotency_key": key,
    }
    response = as_admin.post(url, confirm)
    assert response.status_code == 302
    assert as_admin.post(url, confirm).status_code == 302  # a second click moves nothing more
    assert wallet_of(admin, product) == 6
    assert LedgerTransaction.objects.filter(kind="transfer").count() == 1
    services.start_product(actor=second, product_code=product.code, kind="trial")
    assert wallet_of(second, product) == 4


def test_a_transfer_to_a_started_target_lands_at_once(as_admin, admin, product, second):
    fill_wallet(admin, product, 3)
    services.start_product(actor=second, product_code=product.code, kind="trial")
    url = page(admin.organization, "product-transfer", product)
    summary = _walk_transfer(as_admin, url, 3, second.organization)
    assert "pending transfer" not in summary


def test_the_transfer_offers_only_organizations_where_the_person_is_admin(
    as_admin, admin, product, second
):
    viewer_there = MembershipFactory(user=admin.user, role=Role.VIEWER)
    fill_wallet(admin, product, 3)
    url = page(admin.organization, "product-transfer", product)
    step = text(as_admin.post(url, {"step": "target", "license_kind": "subscription", "count": 1}))
    assert f'<option value="{second.organization.pk}"' in step
    assert f'<option value="{viewer_there.organization.pk}"' not in step
    before = ledger_state()
    data = {
        "step": "confirm",
        "license_kind": "subscription",
        "count": 1,
        "target_organization": viewer_there.organization.pk,
        "idempotency_key": "0b7f9f0e-3a8e-4f0b-8a65-3f1f8c1c0f11",
    }
    response = as_admin.post(url, data)
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)
    assert ledger_state() == before


def test_a_transfer_of_more_than_the_wallet_holds_is_refused_at_once(
    as_admin, admin, product, second
):
    fill_wallet(admin, product, 3)
    url = page(admin.organization, "product-transfer", product)
    before = ledger_state()
    response = as_admin.post(url, {"step": "target", "license_kind": "subscription", "count": 4})
    assert response.status_code == 409
    assert "The wallet holds only 3 licenses of this kind." in text(response)
    assert ledger_state() == before


def test_a_wallet_emptied_before_confirming_is_refused_and_moves_nothing(
    as_admin, admin, product, second
):
    fill_wallet(admin, product, 3)
    url = page(admin.organization, "product-transfer", product)
    summary = _walk_transfer(as_admin, url, 3, second.organization)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', summary)[1]
    # Meanwhile the licenses were allocated elsewhere.
    services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=2)
    before = ledger_state()
    data = {
        "step": "confirm",
        "license_kind": "subscription",
        "count": 3,
        "target_organization": second.organization.pk,
        "idempotency_key": key,
    }
    response = as_admin.post(url, data)
    assert response.status_code == 409
    assert "The wallet holds only 1 license of this kind." in text(response)
    assert ledger_state() == before


def test_without_another_organization_there_is_nowhere_to_transfer(as_admin, admin, product):
    body = text(as_admin.get(page(admin.organization, "product-transfer", product)))
    assert 'id="no-targets"' in body


# --- History ----------------------------------------------------------------------------------


def test_history_lists_who_did_what_and_filters(as_admin, admin, product):
    fill_wallet(admin, product, 5)
    services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=2)
    url = page(admin.organization, "history")
    body = text(as_admin.get(url))
    assert "Redemption" in body
    assert "Allocation" in body
    assert admin.user.email in body
    only = text(as_admin.get(url, {"kind": "allocate"}))
    assert '<td data-label="What">Allocation' in only
    assert '<td data-label="What">Redemption' not in only
    future = (timezone.now().date() + timedelta(days=2)).isoformat()
    assert "Nothing matches." in text(as_admin.get(url, {"since": future}))
    wrong = as_admin.get(url, {"since": "2030-01-02", "until": "2030-01-01"})
    assert wrong.status_code == 400
    assert "The end date is before the start date." in text(wrong)


def test_history_pages(as_admin, admin, product, monkeypatch):
    from licensing import views

    monkeypatch.setattr(views, "HISTORY_PAGE_SIZE", 2)
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    for _ in range(3):
        services.redeem_license_key(actor=admin, key=issue_key(product, quantity=1))
    url = page(admin.organization, "history")
    first = text(as_admin.get(url))
    assert "1 / 2" in first
    assert first.count('data-label="What">Redemption') == 2
    second = text(as_admin.get(url, {"page": 2}))
    assert second.count('data-label="What">Redemption') == 1


def test_history_export_is_streamed_filtered_and_defuses_formulas(as_admin, admin):
    product = ProductFactory(name='=HYPERLINK("http://evil.example")')
    fill_wallet(admin, product, 5)
    services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=2)
    response = as_admin.get(page(admin.organization, "history-export"), {"kind": "allocate"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["When", "What", "Product"]
    assert len(rows) == 2
    assert rows[1][1] == "Allocation"
    assert rows[1][2].startswith("'=")
    assert rows[1][3] == "2"
    assert rows[1][4] == admin.user.email


def test_history_export_with_a_wrong_filter_goes_back_to_the_page(as_admin, admin):
    response = as_admin.get(page(admin.organization, "history-export"), {"since": "nonsense"})
    assert response.status_code == 302
    assert response["Location"].startswith(page(admin.organization, "history"))


# --- Resellers and the person's country -------------------------------------------------------


@pytest.fixture
def resellers(product):
    tokyo = Reseller.objects.create(
        name="Sakura Vision", countries=["JP"], website="https://s.example/"
    )
    london = Reseller.objects.create(name="Northwind", countries=["GB", "IE"])
    Reseller.objects.create(name="Gone Ltd", countries=["JP"], is_active=False)
    tokyo.products.add(product)
    return tokyo, london


def test_the_directory_lists_resellers_of_the_time_zone_country(as_admin, admin, resellers):
    admin.user.time_zone = "Asia/Tokyo"
    admin.user.save()
    body = text(as_admin.get(page(admin.organization, "reseller-list")))
    assert "Sakura Vision" in body
    assert "Camera Station" in body
    assert "Northwind" not in body
    assert "Gone Ltd" not in body
    switched = text(as_admin.get(page(admin.organization, "reseller-list"), {"country": "GB"}))
    assert "Northwind" in switched
    assert "Sakura Vision" not in switched


def test_the_chosen_country_wins_over_the_time_zone(as_admin, admin, resellers):
    admin.user.time_zone = "Asia/Tokyo"
    admin.user.country = "IE"
    admin.user.save()
    body = text(as_admin.get(page(admin.organization, "reseller-list")))
    assert "Northwind" in body
    assert "Sakura Vision" not in body


def test_an_unknown_country_falls_back_to_the_person_s(as_admin, admin, resellers):
    admin.user.country = "JP"
    admin.user.save()
    body = text(as_admin.get(page(admin.organization, "reseller-list"), {"country": "XX"}))
    assert "Sakura Vision" in body


def test_the_directory_shows_country_names_in_japanese(as_admin, admin, resellers):
    admin.user.country = "JP"
    admin.user.save()
    body = text(as_admin.get(page(admin.organization, "reseller-list"), HTTP_ACCEPT_LANGUAGE="ja"))
    assert '<option value="JP" selected>日本</option>' in body


def test_the_profile_keeps_a_country_and_offers_the_time_zone_s(client, admin):
    user = admin.user
    user.time_zone = "Europe/Oslo"
    user.save()
    client.force_login(user)
    body = text(client.get(reverse("accounts:profile")))
    assert "From my time zone (Norway)" in body
    data = {"name": "Ann", "language": "", "time_zone": "Europe/Oslo", "country": "SE"}
    assert client.post(reverse("accounts:profile"), data).status_code == 302
    user.refresh_from_db()
    assert user.country == "SE"
    data["country"] = "ZZ"
    assert client.post(reverse("accounts:profile"), data).status_code == 200
    user.refresh_from_db()
    assert user.country == "SE"


def test_a_reseller_needs_known_countries():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Reseller(name="X", countries=["ZZ"]).full_clean()
    with pytest.raises(ValidationError):
        Reseller(name="X", countries=[]).full_clean()
    Reseller(name="X", countries=["JP"]).full_clean()


def test_staff_keep_resellers_in_the_admin_with_countries_by_name(db):
    from django.contrib import admin as django_admin

    product = ProductFactory()
    form_class = django_admin.site._registry[Reseller].form
    form = form_class(
        {
            "name": "Fuji Optics",
            "countries": ["JP", "KR"],
            "website": "fuji-optics.example",
            "products": [product.pk],
            "is_active": "on",
        }
    )
    assert form.is_valid(), form.errors
    reseller = form.save()
    assert reseller.countries == ["JP", "KR"]
    assert reseller.website == "https://fuji-optics.example"
    assert not form_class({"name": "X", "countries": ["ZZ"]}).is_valid()


def test_the_demo_seeds_resellers_once(db):
    from licensing.demo import seed_licensing

    first = seed_licensing()
    assert len(first) >= 3
    assert any("JP" in reseller.countries for reseller in first)
    assert all(reseller.products.exists() for reseller in first)
    seed_licensing()
    assert Reseller.objects.count() == len(first)


def test_without_a_country_the_directory_asks_for_one(as_admin, admin, resellers):
    admin.user.time_zone = "UTC"
    admin.user.save()
    body = text(as_admin.get(page(admin.organization, "reseller-list")))
    assert "Choose your country to see the resellers serving it." in body
    assert "Sakura Vision" not in body
    assert '<option value="" selected>Choose a country…</option>' in body
