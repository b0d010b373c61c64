"""The tenant cast every app's tests share (healthchecks' alice/bob/charlie, for tenants).

One organization with a folder tree and a member of every role, and a second organization that
looks like the first, so a query that forgets to scope returns extra rows and fails some test.

Tree of an organization:  top → site_a → building_a1 → room_a1x
                              → site_b
The operator is granted site_a; the viewer is granted building_a1.
"""

import threading
from types import SimpleNamespace

from django.db import connection

from organizations.roles import Role
from tests.organizations.factories import FolderFactory, MembershipFactory, OrganizationFactory


def build_tenant(name: str) -> SimpleNamespace:
    """Create an organization with the tree above and an owner, admin, operator and viewer."""
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


def race(*calls):
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
