"""Staff admin of the devices app; each area registers its models in its own module."""

from devices.servers import admin as _servers_admin  # noqa: F401 - registers server releases
