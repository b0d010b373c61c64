"""What the licensing app adds to the cross-tenant probe and to the role table."""

from organizations.roles import Action
from tests.licensing.factories import OfflineSystemFactory, ProductFactory
from tests.support.registry import ALL, NO, RouteId, declare_role_rows, declare_route_ids

# Products are the staff-managed catalogue every organization shares: a product code names
# no tenant's object, so the probe checks these routes as the organization's, not another's.
declare_route_ids(
    RouteId("product_code", make=lambda tenant, folder: ProductFactory().code, is_shared=True),
    # A licensed system (hardware or offline) belongs to one organization.
    RouteId(
        "system_id",
        make=lambda tenant, folder: OfflineSystemFactory(organization=tenant.organization).pk,
    ),
)

# PRODUCT.md §3, written out independently of roles.py: owner, admin, operator, viewer.
declare_role_rows({Action.LICENSE_MANAGE: (ALL, ALL, NO, NO)})
