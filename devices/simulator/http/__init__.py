"""The HTTP face of the simulated cameras, one module per API family.

- ``host``: what the HTTP layer needs from the fleet (``FleetHost``, ``ControlledFleet``), so
  this package never imports ``fleet``.
- ``replies`` and ``bodies``: Apache's pages and headers, the ``Reply``/``Dropped`` exceptions,
  reading forms and small bodies.
- ``authentication``: Digest/Basic checks, 401 challenges, ``require``.
- ``ajr``: the JSON envelope; ``json_apis``: apidiscovery, basicdeviceinfo, systemready.
- ``firmware``: firmwaremanagement.cgi and the legacy firmware/restart/factory-default CGIs.
- ``parameters`` (param.cgi), ``users`` (pwdgrp.cgi, usergroup.cgi), ``media`` (snapshot,
  MJPEG, recordings), ``ptz`` (com/ptz.cgi), ``applications`` (applications/list.cgi).
- ``app``: routing, faults and the boot window; ``control``: the control API.
"""

from .app import build_app
from .control import build_control_app
from .host import ControlledFleet, FleetHost

__all__ = ["ControlledFleet", "FleetHost", "build_app", "build_control_app"]
