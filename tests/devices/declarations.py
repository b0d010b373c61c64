"""What the devices app adds to the cross-tenant probe and to the role table."""

from organizations.roles import Action
from tests.devices.factories import DeviceFactory, DeviceImportFactory
from tests.support.registry import ALL, GRANTED, NO, RouteId, declare_role_rows, declare_route_ids

declare_route_ids(
    RouteId(
        "device_id", make=lambda tenant, folder: DeviceFactory(folder=folder).pk, in_folder=True
    ),
    RouteId("import_id", make=lambda tenant, folder: DeviceImportFactory(default_folder=folder).pk),
    # A local account on a device: the route's device_id decides reach; any valid name will do.
    RouteId("account_name", make=lambda tenant, folder: "operator"),
)

# PRODUCT.md §3, written out independently of roles.py: owner, admin, operator, viewer.
declare_role_rows(
    {
        Action.DEVICE_VIEW: (ALL, ALL, GRANTED, GRANTED),
        Action.DEVICE_CONTROL: (ALL, ALL, GRANTED, NO),
        Action.RECORDING_PLAY: (ALL, ALL, GRANTED, NO),
        Action.DEVICE_MANAGE: (ALL, ALL, NO, NO),
    }
)

# A recording is named by the device's own id; any id of a device outside reach is 404 first.
declare_route_ids(
    RouteId("recording_id", make=lambda tenant, folder: "20260101_000000_ABCD_B8A44F000000"),
)
