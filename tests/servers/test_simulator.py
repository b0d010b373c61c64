"""Simulated servers over real HTTP against a live camfleet: each fault ends in its state.

The fleet runs fast: one-second check-in intervals shortened further by the simulator's
time scale, one-second installs, and limits (offline, upgrade timeout) of a few seconds.
"""

import asyncio
import threading
import time

import pytest
from django.core import mail
from django.test import override_settings

from devices.servers import selectors, services
from devices.servers.models import CameraStationServer, ServerUpgrade
from devices.servers.simulator import (
    INSTALL_FAILURE,
    Fleet,
    build_servers,
)
from tests.servers.conftest import register
from tests.servers.factories import ServerReleaseFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_fast_servers"),
]
State = ServerUpgrade.State


@pytest.fixture
def _fast_servers():
    with override_settings(
        SERVER_CHECK_IN_INTERVAL=1,
        SERVER_CHECK_IN_MIN_INTERVAL=0,
        SERVER_OFFLINE_AFTER=2,
        SERVER_UPGRADE_TIMEOUT=3,
    ):
        yield


def _run(live_server, servers, seconds: float):
    """Run the fleet in a thread of its own: its event loop must not meet one a browser test
    left running in this thread (Playwright's sync API)."""
    fleet = Fleet(live_server.url, servers, time_scale=0.3, install_seconds=1.0)
    outcome: dict = {}
    thread = threading.Thread(
        target=lambda: outcome.update(servers=asyncio.run(fleet.run(duration=seconds)))
    )
    thread.start()
    thread.join(timeout=seconds + 30)
    return outcome["servers"]


def _server_with_upgrade(tenant, faults: dict):
    """Register one server, queue an upgrade to 6.9.0 for it; return (simulated, upgrade)."""
    server, raw = register(tenant.admin, tenant.site_a)
    release = ServerReleaseFactory(version="6.9.0")
    upgrade = services.queue_server_upgrade(
        actor=tenant.admin, server_id=server.pk, release_id=release.pk
    )
    simulated = build_servers(1, server_tokens=[raw], faults={0: faults})[0]
    return simulated, upgrade


def test_simulated_servers_register_and_report_cameras_and_storage(live_server, tenant):
    raws = [
        services.create_registration_token(
            actor=tenant.admin, folder_id=tenant.site_b.pk, name=f"t{n}", valid_hours=1
        )[1]
        for n in range(2)
    ]
    servers = _run(live_server, build_servers(2, registration_tokens=raws), 2.5)
    stored = {server.name: server for server in CameraStationServer.objects.all()}
    assert set(stored) == {"Simulated recorder 1", "Simulated recorder 2"}
    for simulated in servers:
        server = stored[simulated.name]
        assert server.folder == tenant.site_b
        assert server.camera_count == simulated.camera_count
        assert len(server.camera_serials) == simulated.camera_count
        assert 0 < server.storage_used_bytes <= server.storage_total_bytes
        assert selectors.connection_state(server).state == selectors.ONLINE
        assert simulated.check_ins >= 2


def test_a_normal_upgrade_ends_succeeded_on_the_new_version(live_server, tenant):
    simulated, upgrade = _server_with_upgrade(tenant, {})
    _run(live_server, [simulated], 4)
    upgrade.refresh_from_db()
    assert upgrade.state == State.SUCCEEDED
    assert CameraStationServer.objects.get().software_version == "6.9.0"


def test_fault_install_fails_ends_failed_with_the_installers_reason(live_server, tenant):
    simulated, upgrade = _server_with_upgrade(tenant, {"install-fails": 0})
    _run(live_server, [simulated], 2.5)
    upgrade.refresh_from_db()
    assert upgrade.state == State.FAILED
    assert upgrade.reason == INSTALL_FAILURE
    assert CameraStationServer.objects.get().software_version == "6.8.0"


def test_fault_never_back_times_out_into_failed_without_an_outage_alert(live_server, tenant):
    simulated, upgrade = _server_with_upgrade(tenant, {"never-back": 0})
    _run(live_server, [simulated], 2)
    upgrade.refresh_from_db()
    assert upgrade.state == State.INSTALLING
    assert simulated.stopped_because == "never-back"
    time.sleep(2.5)  # past the offline limit, still inside the upgrade timeout
    assert services.alert_outages() == []
    time.sleep(1)
    assert services.time_out_upgrades() == [upgrade.pk]
    upgrade.refresh_from_db()
    assert upgrade.state == State.TIMED_OUT
    assert "did not report back" in upgrade.reason


def test_fault_stops_ends_offline_with_one_alert(live_server, tenant):
    server, raw = register(tenant.admin, tenant.site_a)
    simulated = build_servers(1, server_tokens=[raw], faults={0: {"stops": 2}})[0]
    _run(live_server, [simulated], 2)
    assert simulated.check_ins == 2
    assert simulated.stopped_because == "stops"
    time.sleep(2.5)
    assert services.alert_outages() == [server.pk]
    assert services.alert_outages() == []
    server.refresh_from_db()
    assert selectors.connection_state(server).state == selectors.OFFLINE
    assert server.outage_alerted_at is not None
    assert {m.to[0] for m in mail.outbox} == {tenant.owner.user.email, tenant.admin.user.email}


def test_fault_clock_skew_is_recorded_while_the_server_stays_online(live_server, tenant):
    server, raw = register(tenant.admin, tenant.site_a)
    simulated = build_servers(1, server_tokens=[raw], faults={0: {"clock-skew": -3600}})[0]
    _run(live_server, [simulated], 1.5)
    server.refresh_from_db()
    assert -3610 <= server.clock_skew_seconds <= -3590
    assert selectors.connection_state(server).state == selectors.ONLINE


def test_a_removed_server_stops_with_the_services_reason(live_server, tenant):
    server, raw = register(tenant.admin, tenant.site_a)
    services.remove_server(actor=tenant.admin, server_id=server.pk)
    simulated = build_servers(1, server_tokens=[raw])[0]
    _run(live_server, [simulated], 1.5)
    assert simulated.stopped_because == "server_removed"
    assert "removed from the organization" in simulated.log[-1]
