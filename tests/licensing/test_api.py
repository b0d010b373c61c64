"""The licensing API: shapes scripts rely on, stable error codes, roles on every route."""

import csv
import io
import uuid

import pytest
from django.core.cache import cache

from licensing import keys, services
from organizations.roles import Role
from tests.licensing.factories import ProductFactory, fill_wallet, issue_key
from tests.organizations.factories import MembershipFactory


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def product(db):
    return ProductFactory(code="camera-station")


def url(organization, path: str) -> str:
    return f"/api/v1/organizations/{organization.pk}/licensing/{path}"


def test_products_list_the_status_of_each_product(api, admin, product):
    api.login(admin)
    assert (
        api.post(
            url(admin.organization, "products/camera-station/start"), {"kind": "subscription"}
        ).status_code
        == 200
    )
    response = api.get(url(admin.organization, "products/"))
    assert response.status_code == 200
    [status] = [row for row in response.json() if row["code"] == "camera-station"]
    assert status["is_started"] is True
    assert status["year"] == 1
    assert status["is_in_grace_period"] is True
    assert status["grace_period_ends_on"]
    assert (status["need"], status["allocated"], status["short_by"]) == (0, 0, 0)
    assert set(status["license_kinds"]) == {"subscription", "hardware_extension", "upgrade"}


def test_start_refuses_an_unknown_kind(api, admin, product):
    api.login(admin)
    response = api.post(url(admin.organization, "products/camera-station/start"), {"kind": "x"})
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]


def test_start_of_an_unknown_product_is_404(api, admin):
    api.login(admin)
    response = api.post(url(admin.organization, "products/nothing/start"), {"kind": "trial"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "product_not_found"


def test_redeem_answers_the_movement_and_the_wallet_shows_it(api, admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="subscription")
    api.login(admin)
    response = api.post(url(admin.organization, "redeem"), {"key": issue_key(product, quantity=8)})
    assert response.status_code == 201
    assert response.json()["kind"] == "redeem"
    assert response.json()["count"] == 8
    wallet = api.get(url(admin.organization, "wallet/")).json()
    assert wallet == [
        {
            "product": "camera-station",
            "product_name": product.name,
            "license_kind": "subscription",
            "count": 8,
            "lots": [wallet[0]["lots"][0]],
        }
    ]
    assert wallet[0]["lots"][0]["count"] == 8
    assert wallet[0]["lots"][0]["expires_on"] > wallet[0]["lots"][0]["credited_on"]


@pytest.mark.parametrize(
    ("make_key", "status_code", "code"),
    [
        (lambda product: "not a key", 400, "key_invalid"),
        (lambda product: keys.generate(), 400, "key_unknown"),
        (lambda product: issue_key(ProductFactory()), 400, "key_other_product"),
    ],
)
def test_redeem_errors_have_stable_codes(api, admin, product, make_key, status_code, code):
    services.start_product(actor=admin, product_code=product.code, kind="trial")
    api.login(admin)
    response = api.post(
        url(admin.organization, "redeem"), {"key": make_key(product), "product": product.code}
    )
    assert response.status_code == status_code
    body = response.json()["error"]
    assert body["code"] == code
    assert body["message"]


def test_redeeming_a_used_key_is_409_key_used(api, admin, product):
    text = issue_key(product)
    fill_wallet(admin, product, 1)
    services.redeem_license_key(actor=admin, key=text)
    api.login(admin)
    response = api.post(url(admin.organization, "redeem"), {"key": text})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "key_used"


def test_guessing_keys_is_throttled_with_429(api, admin, product):
    services.start_product(actor=admin, product_code=product.code, kind="trial")
    api.login(admin)
    for _ in range(services.REDEEM_FAILURE_LIMIT):
        api.post(url(admin.organization, "redeem"), {"key": keys.generate()})
    response = api.post(url(admin.organization, "redeem"), {"key": issue_key(product)})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "key_throttled"


def test_allocate_is_all_or_nothing_with_insufficient_licenses(api, admin, product):
    fill_wallet(admin, product, 5)
    api.login(admin)
    path = url(admin.organization, "products/camera-station/allocate")
    short = api.post(path, {"year": 1, "count": 6})
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_licenses"
    done = api.post(path, {"year": 1, "count": 5})
    assert done.status_code == 201
    assert done.json()["movement"]["kind"] == "allocate"
    assert done.json()["compensation"] == {
        "license_days": 0,
        "licenses": 0,
        "carried_license_days": 0,
    }


def test_allocate_with_an_idempotency_key_moves_once(client, admin, product):
    fill_wallet(admin, product, 5)
    client.force_login(admin.user)
    path = url(admin.organization, "products/camera-station/allocate")
    key = str(uuid.uuid4())
    answers = [
        client.post(
            path,
            {"year": 1, "count": 2},
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )
        for _ in range(2)
    ]
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json()["movement"]["id"] == answers[1].json()["movement"]["id"]
    wallet = client.get(url(admin.organization, "wallet/")).json()
    assert wallet[0]["count"] == 3


def test_transfer_needs_admin_of_both_organizations(api, tenant, other_tenant, product):
    admin = tenant.admin
    fill_wallet(admin, product, 5)
    api.login(admin)
    path = url(tenant.organization, "products/camera-station/transfer")
    body = {"target_organization": str(other_tenant.organization.pk), "count": 2}
    refused = api.post(path, body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_admin_of_target"
    MembershipFactory(organization=other_tenant.organization, user=admin.user, role=Role.ADMIN)
    done = api.post(path, body)
    assert done.status_code == 201
    assert done.json()["is_pending"] is True


def test_history_lists_movements_with_filters_and_as_csv(api, admin, product):
    fill_wallet(admin, product, 5)
    services.allocate_licenses(actor=admin, product_code=product.code, year=1, count=2)
    api.login(admin)
    everything = api.get(url(admin.organization, "history/")).json()
    assert [item["kind"] for item in everything["results"]] == ["allocate", "redeem"]
    assert everything["results"][0]["change"] == {"wallet": -2, "subscription_year:1": 2}
    only = api.get(url(admin.organization, "history/"), {"kind": "redeem"}).json()
    assert [item["kind"] for item in only["results"]] == ["redeem"]
    bad = api.get(url(admin.organization, "history/"), {"kind": "nonsense"})
    assert bad.status_code == 400
    bad_csv = api.get(url(admin.organization, "history/"), {"kind": "x", "format": "csv"})
    assert bad_csv.status_code == 400
    assert bad_csv.json()["error"]["fields"]["kind"]
    options = api.client.options(
        url(admin.organization, "history/") + "?format=csv", headers=api.headers
    )
    assert options.status_code == 200
    assert options["Content-Type"] == "application/json"
    exported = api.get(url(admin.organization, "history/"), {"format": "csv"})
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [row["kind"] for row in rows] == ["allocate", "redeem"]
    assert rows[0]["by"] == admin.user.email


def test_history_of_another_organization_shows_nothing_of_it(api, admin, other_tenant, product):
    fill_wallet(other_tenant.admin, product, 5)
    api.login(admin)
    assert api.get(url(admin.organization, "history/")).json()["results"] == []
    empty = api.get(url(admin.organization, "history/"), {"format": "csv"})
    assert empty["Content-Type"].startswith("text/csv")
    assert empty.content.decode().strip() == "at,kind,product,count,by,organization,change,id"
    assert api.get(url(admin.organization, "wallet/")).json() == []


ROUTES = [
    ("get", "products/", None),
    ("post", "products/camera-station/start", {"kind": "trial"}),
    ("post", "redeem", {"key": "AAAA"}),
    ("post", "products/camera-station/allocate", {"year": 1, "count": 1}),
    (
        "post",
        "products/camera-station/transfer",
        {"target_organization": str(uuid.uuid4()), "count": 1},
    ),
    ("get", "wallet/", None),
    ("get", "history/", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_get_403_on_every_licensing_route(
    api, tenant, product, role, method, path, body
):
    api.login(getattr(tenant, role))
    response = getattr(api, method)(url(tenant.organization, path), body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_pass_the_role_check_on_every_licensing_route(
    api, tenant, product, role, method, path, body
):
    api.login(getattr(tenant, role))
    response = getattr(api, method)(url(tenant.organization, path), body)
    assert response.status_code != 403 or response.json()["error"]["code"] in {
        "not_admin_of_target"
    }
    assert response.status_code < 500


def test_history_filters_by_product_and_dates_like_the_page_and_defuses_formulas(
    api, admin, product
):
    formula = ProductFactory(code="formula")
    fill_wallet(admin, product, 5)
    fill_wallet(admin, formula, 5)
    admin.organization.name = '=HYPERLINK("http://evil.example")'
    admin.organization.save(update_fields=["name"])
    api.login(admin)
    path = url(admin.organization, "history/")
    today = services.today().isoformat()
    mine = api.get(path, {"product": "camera-station", "since": today, "until": today}).json()
    assert [item["product"] for item in mine["results"]] == ["camera-station"]
    later = api.get(path, {"since": "2999-01-01"}).json()
    assert later["results"] == []
    backwards = api.get(path, {"since": "2030-01-02", "until": "2030-01-01"})
    assert backwards.status_code == 400
    assert backwards.json()["error"]["fields"]["until"]
    exported = api.get(path, {"product": "formula", "format": "csv"})
    [row] = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert row["product"] == "formula"
    assert row["organization"] == "'" + admin.organization.name
