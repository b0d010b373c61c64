"""Camera-station servers (AXIS Camera Station Pro): registration, check-in, monitoring, upgrades.

PRODUCT.md §7. Servers are part of the devices app (DESIGN.md §1) but live in this package of
their own: models (imported by `devices.models`), selectors, services, tasks, the pages (`urls`,
mounted at /o/<organization_id>/servers/), the API servers call (`api`, mounted at
/api/v1/servers/) and the simulated servers (`simulator`).

The protocol is ours (VAPIX.md §13: Axis does not publish one): a server exchanges a one-time
registration token for its own server token, then POSTs a check-in every
SERVER_CHECK_IN_INTERVAL seconds; the answer says when to come back and carries any upgrade
queued for it.
"""
