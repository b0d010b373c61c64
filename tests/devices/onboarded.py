"""Simulated cameras stored as devices of a tenant, the way onboarding stores them.

The identity is read from the camera over VAPIX (basic device info), then written with
`services.create_device`: the write half of onboarding, without its pages.
"""

from devices import connection, services
from devices.networks import resolve_device_address
from devices.services import DeviceIdentity


def read_identity(camera, *, username: str | None = None, password: str | None = None):
    """Return what the camera says about itself, read over HTTP as onboarding does."""
    address = resolve_device_address(camera.host, camera.port)
    with connection.client_for(
        address,
        scheme="http",
        username=username or camera.username,
        password=password or camera.password,
    ) as client:
        info = client.get_device_info()
        has_ptz = client.has_ptz()
    return DeviceIdentity(
        serial_number=info.serial_number,
        product_number=info.product_number,
        product_name=info.product_full_name,
        firmware_version=info.version,
        hardware_id=info.hardware_id,
        architecture=info.architecture or "",
        has_ptz=has_ptz,
    )


def onboard(actor, folder, camera, *, username: str | None = None, password: str | None = None):
    """Store `camera` (a simulator CameraInfo) as a device in `folder`, over plain HTTP."""
    username = username or camera.username
    password = password or camera.password
    return services.create_device(
        actor=actor,
        folder=folder,
        identity=read_identity(camera, username=username, password=password),
        address=resolve_device_address(camera.host, camera.port),
        scheme="http",
        username=username,
        password=password,
    )
