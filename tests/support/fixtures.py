"""Fixtures of the tenant cast and the API clients, for every app's tests (tests/conftest.py)."""

import pytest

from tests.accounts.factories import UserFactory
from tests.support.api import ApiClient
from tests.support.cast import build_tenant
from tests.support.cast import race as _race


@pytest.fixture
def tenant(db):
    return build_tenant("Acme Security")


@pytest.fixture
def organization(tenant):
    return tenant.organization


@pytest.fixture
def folders(tenant):
    """The organization's folders by name: top, site_a, building_a1, room_a1x, site_b."""
    return tenant


@pytest.fixture
def owner(tenant):
    return tenant.owner


@pytest.fixture
def admin(tenant):
    return tenant.admin


@pytest.fixture
def operator(tenant):
    return tenant.operator


@pytest.fixture
def viewer(tenant):
    return tenant.viewer


@pytest.fixture
def outsider(db):
    """A person with an account and no membership in `organization`."""
    return UserFactory()


@pytest.fixture
def other_tenant(db):
    return build_tenant("Other Corp")


@pytest.fixture
def other_organization(other_tenant):
    return other_tenant.organization


@pytest.fixture
def race():
    """Run callables concurrently in real, separate transactions (needs transaction=True)."""
    return _race


@pytest.fixture
def api(client) -> ApiClient:
    """The API as a member (`api.login(admin)`) or through a token (`api.use_token_of(viewer)`)."""
    return ApiClient(client)
