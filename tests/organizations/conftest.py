"""The tenant cast: one organization with a folder tree and a member of every role, an outsider,
and a populated second organization that looks like the first.

Tree of `organization`:  top → site_a → building_a1 → room_a1x
                              → site_b
The operator is granted site_a; the viewer is granted building_a1.
"""

import threading
from types import SimpleNamespace

import pytest
from django.db import connection

from organizations.roles import Role
from tests.accounts.factories import UserFactory
from tests.organizations.factories import FolderFactory, MembershipFactory, OrganizationFactory


def _build_tenant(name: str) -> SimpleNamespace:
    organization = OrganizationFactory(name=name)
    top = organization.top_folder
    site_a = FolderFactory(parent=top, name="Site A")
    building_a1 = FolderFactory(parent=site_a, name="Building A1")
    room_a1x = FolderFactory(parent=building_a1, name="Room A1x")
    site_b = FolderFactory(parent=top, name="Site B")
    tenant = SimpleNamespace(
        organization=organization,
        top=top,
        site_a=site_a,
        building_a1=building_a1,
        room_a1x=room_a1x,
        site_b=site_b,
    )
    tenant.owner = MembershipFactory(organization=organization, role=Role.OWNER)
    tenant.admin = MembershipFactory(organization=organization, role=Role.ADMIN)
    tenant.operator = MembershipFactory(
        organization=organization, role=Role.OPERATOR, folders=[site_a]
    )
    tenant.viewer = MembershipFactory(
        organization=organization, role=Role.VIEWER, folders=[building_a1]
    )
    return tenant


@pytest.fixture
def tenant(db):
    return _build_tenant("Acme Security")


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
    return _build_tenant("Other Corp")


@pytest.fixture
def other_organization(other_tenant):
    return other_tenant.organization


def _race(*calls):
    """Run the calls at the same moment in threads, each on its own database connection.

    Returns each call's result, or the exception it raised.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as error:  # the outcome is what the test inspects
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def race():
    """Run callables concurrently in real, separate transactions (needs transaction=True)."""
    return _race
