"""Remote upgrades: the queue, the cancel rule, progress from check-ins, success and failure."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from common.errors import Conflict, Forbidden, Invalid
from devices.servers import services
from devices.servers.models import ServerUpgrade
from organizations.models import AuditEvent
from tests.servers.conftest import check_in
from tests.servers.factories import ServerReleaseFactory

pytestmark = pytest.mark.django_db
State = ServerUpgrade.State


@pytest.fixture
def release(db):
    return ServerReleaseFactory(version="6.9.0", is_recommended=True)


@pytest.fixture
def queued(admin, registered, release):
    server, raw = registered
    upgrade = services.queue_server_upgrade(actor=admin, server_id=server.pk, release_id=release.pk)
    return upgrade, raw


def _state(upgrade) -> str:
    upgrade.refresh_from_db()
    return upgrade.state


def _actions(server) -> list[str]:
    events = AuditEvent.objects.filter(target_id=str(server.pk), action__startswith="server_up")
    return list(events.order_by("sequence").values_list("action", flat=True))


def test_the_next_check_in_delivers_the_queued_upgrade_and_picks_it_up(client, queued):
    upgrade, raw = queued
    body = check_in(client, raw).json()
    assert body["upgrade"] == {"id": str(upgrade.pk), "version": "6.9.0", "state": "picked_up"}
    assert _state(upgrade) == State.PICKED_UP
    assert upgrade.picked_up_at is not None


def test_a_queued_upgrade_can_be_cancelled_and_is_then_not_delivered(client, admin, queued):
    upgrade, raw = queued
    services.cancel_server_upgrade(actor=admin, upgrade_id=upgrade.pk)
    assert _state(upgrade) == State.CANCELLED
    assert check_in(client, raw).json()["upgrade"] is None
    assert _actions(upgrade.server) == ["server_upgrade.queue", "server_upgrade.cancel"]


def test_a_picked_up_upgrade_cannot_be_cancelled_and_the_refusal_says_why(client, admin, queued):
    upgrade, raw = queued
    check_in(client, raw)
    with pytest.raises(Conflict) as refused:
        services.cancel_server_upgrade(actor=admin, upgrade_id=upgrade.pk)
    assert refused.value.code == "upgrade_not_cancellable"
    assert "cannot be cancelled" in str(refused.value.message)
    assert _state(upgrade) == State.PICKED_UP


def test_the_full_path_to_success_is_recorded_and_audited(client, queued):
    upgrade, raw = queued
    check_in(client, raw)
    body = check_in(client, raw, upgrade={"id": str(upgrade.pk), "state": "installing"}).json()
    assert _state(upgrade) == State.INSTALLING
    assert body["upgrade"]["state"] == "installing"
    body = check_in(client, raw, software_version="6.9.0").json()
    assert _state(upgrade) == State.SUCCEEDED
    assert body["upgrade"] is None
    upgrade.server.refresh_from_db()
    assert upgrade.server.software_version == "6.9.0"
    assert _actions(upgrade.server) == [
        "server_upgrade.queue",
        "server_upgrade.pick_up",
        "server_upgrade.install",
        "server_upgrade.succeed",
    ]


def test_reporting_installing_is_not_success(client, queued):
    upgrade, raw = queued
    check_in(client, raw)
    check_in(client, raw, upgrade={"id": str(upgrade.pk), "state": "installing"})
    assert _state(upgrade) == State.INSTALLING


def test_a_failure_the_server_reports_keeps_its_reason(client, queued):
    upgrade, raw = queued
    check_in(client, raw)
    reason = "Installer exited with code 1603"
    check_in(client, raw, upgrade={"id": str(upgrade.pk), "state": "failed", "reason": reason})
    assert _state(upgrade) == State.FAILED
    assert upgrade.reason == reason


def test_coming_back_on_the_old_version_after_installing_is_a_failure(client, queued):
    upgrade, raw = queued
    check_in(client, raw)
    check_in(client, raw, upgrade={"id": str(upgrade.pk), "state": "installing"})
    check_in(client, raw, software_version="6.8.0")
    assert _state(upgrade) == State.FAILED
    assert "6.8.0 instead of 6.9.0" in upgrade.reason


def test_an_upgrade_that_never_reports_back_times_out_into_failed(client, queued):
    upgrade, raw = queued
    check_in(client, raw)
    with override_settings(SERVER_UPGRADE_TIMEOUT=600):
        assert services.time_out_upgrades() == []
        with time_machine.travel(timezone.now() + timedelta(seconds=601)):
            assert services.time_out_upgrades() == [upgrade.pk]
    assert _state(upgrade) == State.TIMED_OUT
    assert "did not report back within 10 minutes" in upgrade.reason
    assert upgrade.get_state_display() == "Failed: timed out"


def test_a_second_upgrade_while_one_is_under_way_is_refused(admin, queued, release):
    upgrade, _raw = queued
    other = ServerReleaseFactory(version="6.10.0")
    with pytest.raises(Conflict) as refused:
        services.queue_server_upgrade(actor=admin, server_id=upgrade.server_id, release_id=other.pk)
    assert refused.value.code == "upgrade_under_way"


@pytest.mark.django_db(transaction=True)
def test_two_admins_queueing_at_once_get_one_upgrade(tenant, race):
    from tests.servers.conftest import register

    server, _raw = register(tenant.admin, tenant.site_a)
    release = ServerReleaseFactory(version="6.9.0")
    outcomes = race(
        lambda: services.queue_server_upgrade(
            actor=tenant.admin, server_id=server.pk, release_id=release.pk
        ),
        lambda: services.queue_server_upgrade(
            actor=tenant.owner, server_id=server.pk, release_id=release.pk
        ),
    )
    assert sum(isinstance(outcome, ServerUpgrade) for outcome in outcomes) == 1
    assert [o.code for o in outcomes if isinstance(o, Conflict)] == ["upgrade_under_way"]
    assert ServerUpgrade.objects.filter(server=server).count() == 1


def test_upgrading_to_the_version_it_runs_is_refused(admin, registered):
    server, _raw = registered
    same = ServerReleaseFactory(version="6.8.0")
    with pytest.raises(Invalid) as refused:
        services.queue_server_upgrade(actor=admin, server_id=server.pk, release_id=same.pk)
    assert refused.value.code == "already_on_release"


def test_operators_cannot_upgrade_servers(operator, registered, release):
    server, _raw = registered
    with pytest.raises(Forbidden):
        services.queue_server_upgrade(actor=operator, server_id=server.pk, release_id=release.pk)
    assert not ServerUpgrade.objects.exists()


def test_a_check_in_that_moves_an_upgrade_stays_within_a_few_queries(client, queued):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    upgrade, raw = queued
    with CaptureQueriesContext(connection) as queries:
        check_in(client, raw)
    statements = [q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # the one-statement path (matches nothing: an upgrade is under way), then the token, server
    # update, upgrade, its pick-up, audit (organization lock, event, head), ring
    assert len(statements) <= 9
    assert _state(upgrade) == State.PICKED_UP
