"""What the organizations app adds to the cross-tenant probe and to the role table."""

from organizations.roles import Action
from tests.organizations.factories import InvitationFactory
from tests.support.registry import ALL, NO, RouteId, declare_role_rows, declare_route_ids

declare_route_ids(
    RouteId("folder_id", make=lambda tenant, folder: folder.pk, in_folder=True),
    RouteId("member_id", make=lambda tenant, folder: tenant.owner.pk),
    RouteId(
        "invitation_id",
        make=lambda tenant, folder: InvitationFactory(organization=tenant.organization).pk,
    ),
    RouteId("token_id", make=lambda tenant, folder: tenant.token.pk),
)

# PRODUCT.md §3, written out independently of roles.py: owner, admin, operator, viewer.
# GRANTED: only on objects inside the member's granted folder subtrees. The upgrade rows
# stay here until that app declares them in its own tests (devices, licensing: their own).
declare_role_rows(
    {
        Action.ORGANIZATION_VIEW: (ALL, ALL, ALL, ALL),
        Action.MEMBER_LIST: (ALL, ALL, ALL, ALL),
        Action.SERVER_MONITOR: (ALL, ALL, ALL, NO),
        Action.MEMBER_INVITE: (ALL, ALL, NO, NO),
        Action.MEMBER_CHANGE: (ALL, ALL, NO, NO),
        Action.MEMBER_REMOVE: (ALL, ALL, NO, NO),
        Action.SERVER_UPGRADE: (ALL, ALL, NO, NO),
        Action.FOLDER_MANAGE: (ALL, ALL, NO, NO),
        Action.ORGANIZATION_CHANGE: (ALL, ALL, NO, NO),
        Action.TOKEN_MANAGE: (ALL, ALL, NO, NO),
        Action.AUDIT_VIEW: (ALL, ALL, NO, NO),
        Action.ORGANIZATION_ARCHIVE: (ALL, NO, NO, NO),
        Action.OWNER_GRANT: (ALL, NO, NO, NO),
    }
)
