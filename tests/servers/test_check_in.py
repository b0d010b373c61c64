"""Check-in: good and bad tokens, what is stored, the bounded history, throttling, queries."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devices.servers import services
from devices.servers.models import CameraStationServer, ServerCheckIn
from tests.servers.conftest import check_in, register

pytestmark = pytest.mark.django_db

REPORT = {
    "software_version": "6.8.0",
    "status": "running",
    "cameras": {"count": 3, "serials": ["B8A44F000001", "B8A44F000002", "B8A44F000003"]},
    "storage": {"used_bytes": 500, "total_bytes": 2000},
    "health": {"status": "warning", "messages": ["Disk E: 90 % full"]},
}


def test_a_check_in_stores_the_report_and_says_when_to_come_back(client, registered):
    server, raw = registered
    response = check_in(client, raw, **REPORT)
    assert response.status_code == 200
    body = response.json()
    assert body["server_id"] == str(server.pk)
    assert body["next_check_in_seconds"] == 60
    assert body["upgrade"] is None
    server.refresh_from_db()
    assert server.camera_count == 3
    assert server.camera_serials == REPORT["cameras"]["serials"]
    assert (server.storage_used_bytes, server.storage_total_bytes) == (500, 2000)
    assert server.health == "warning"
    assert server.health_messages == ["Disk E: 90 % full"]
    assert server.reported_status == "running"
    assert server.last_check_in_at is not None
    assert ServerCheckIn.objects.filter(server=server).count() == 1


def test_the_interval_in_the_answer_comes_from_the_setting(client, registered):
    with override_settings(SERVER_CHECK_IN_INTERVAL=300):
        assert check_in(client, registered[1]).json()["next_check_in_seconds"] == 300


@pytest.mark.parametrize(
    "header",
    ["", "Server", "Server cfsdeadbeef00_nope", "Token cfsdeadbeef00_nope", "Bearer x"],
)
def test_a_missing_or_wrong_token_is_refused(client, registered, header):
    headers = {"Authorization": header} if header else {}
    response = client.post(
        "/api/v1/servers/check-in", REPORT, content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("token_missing", "token_invalid")
    assert response["WWW-Authenticate"] == "Server"
    assert not ServerCheckIn.objects.exists()


def test_a_revoked_token_is_told_it_was_revoked(client, admin, registered):
    server, raw = registered
    services.revoke_server_token(actor=admin, server_id=server.pk)
    response = check_in(client, raw)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"
    assert "revoked" in response.json()["error"]["message"]


def test_a_removed_server_is_told_it_was_removed(client, admin, registered):
    server, raw = registered
    services.remove_server(actor=admin, server_id=server.pk)
    response = check_in(client, raw)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "server_removed"
    assert not CameraStationServer.objects.filter(pk=server.pk).exists()


def test_a_server_of_an_archived_organization_is_refused(client, owner, registered):
    from organizations import services as organization_services

    organization = owner.organization
    organization_services.archive_organization(
        actor=owner, confirmation_id=str(organization.pk), understood=True
    )
    response = check_in(client, registered[1])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "organization_archived"


def test_a_check_in_too_soon_is_throttled_with_retry_after(client, registered):
    raw = registered[1]
    with override_settings(SERVER_CHECK_IN_MIN_INTERVAL=30):
        assert check_in(client, raw).status_code == 200
        response = check_in(client, raw)
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "too_soon"
        assert 1 <= int(response["Retry-After"]) <= 30
        with time_machine.travel(timezone.now() + timedelta(seconds=31)):
            assert check_in(client, raw).status_code == 200
    assert ServerCheckIn.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"software_version": 6},
        {"software_version": "x" * 33},
        {"software_version": "6.8", "storage": {"used_bytes": 5, "total_bytes": 1}},
        {"software_version": "6.8", "storage": {"used_bytes": -1, "total_bytes": 1}},
        {"software_version": "6.8", "health": {"status": "splendid"}},
        {"software_version": "6.8", "cameras": {"serials": ["x" * 65]}},
        {"software_version": "6.8", "upgrade": {"id": "not-a-uuid", "state": "installing"}},
    ],
)
def test_a_bad_report_is_refused_and_changes_nothing(client, registered, body):
    response = check_in(client, registered[1], **body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    server = CameraStationServer.objects.get()
    assert server.last_check_in_at is None


def test_control_characters_a_server_reports_are_dropped(client, registered):
    response = check_in(client, registered[1], software_version="6.8\x1b[31m", status="ok\x07")
    assert response.status_code == 200
    server = CameraStationServer.objects.get()
    assert server.software_version == "6.8[31m"
    assert server.reported_status == "ok"


def test_the_check_in_history_is_a_bounded_ring(client, registered):
    server, raw = registered
    with override_settings(SERVER_CHECK_IN_HISTORY=5):
        for number in range(12):
            check_in(client, raw, cameras={"count": number})
    kept = list(ServerCheckIn.objects.filter(server=server).order_by("checked_in_at"))
    assert len(kept) == 5
    assert [check.camera_count for check in kept] == [7, 8, 9, 10, 11]


def test_the_server_clock_skew_is_recorded_and_our_clock_is_kept(client, registered):
    ahead = (timezone.now() + timedelta(hours=2)).isoformat()
    check_in(client, registered[1], sent_at=ahead)
    server = CameraStationServer.objects.get()
    assert 7190 <= server.clock_skew_seconds <= 7200
    assert abs((server.last_check_in_at - timezone.now()).total_seconds()) < 5


def _queries_of_one_check_in(client, raw) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert check_in(client, raw, **REPORT).status_code == 200
    # The test's own transaction turns the service's transaction into a savepoint: not a query.
    return len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]])


def test_a_check_in_makes_the_same_few_queries_however_long_the_history(client, admin, folders):
    _server, raw = register(admin, folders.site_a)
    first = _queries_of_one_check_in(client, raw)
    for _ in range(30):
        check_in(client, raw)
    _other, other_raw = register(admin, folders.site_b, name="Second")
    assert first == 1  # one statement: claim, update and ring (services._QUICK_CHECK_IN)
    assert _queries_of_one_check_in(client, raw) == first
    assert _queries_of_one_check_in(client, other_raw) == first


def test_an_ordinary_check_in_stores_what_the_full_path_stores(client, admin, folders):
    """The one-statement path and the full path (taken with an upgrade under way) agree."""
    from tests.servers.factories import ServerReleaseFactory

    quick, quick_raw = register(admin, folders.site_a, name="Quick")
    full, full_raw = register(admin, folders.site_b, name="Full")
    release = ServerReleaseFactory(version="7.0.0")
    services.queue_server_upgrade(actor=admin, server_id=full.pk, release_id=release.pk)
    sent_at = (timezone.now() + timedelta(minutes=5)).isoformat()
    for raw in (quick_raw, full_raw):
        assert check_in(client, raw, sent_at=sent_at, **REPORT).status_code == 200
    columns = [
        "software_version",
        "reported_status",
        "health",
        "health_messages",
        "camera_count",
        "camera_serials",
        "storage_used_bytes",
        "storage_total_bytes",
        "check_in_count",
        "outage_alerted_at",
    ]
    quick.refresh_from_db()
    full.refresh_from_db()
    assert [getattr(quick, c) for c in columns] == [getattr(full, c) for c in columns]
    assert abs(quick.clock_skew_seconds - full.clock_skew_seconds) <= 1
    ring = [
        "slot",
        "software_version",
        "reported_status",
        "health",
        "camera_count",
        "storage_used_bytes",
        "storage_total_bytes",
    ]
    assert list(ServerCheckIn.objects.filter(server=quick).values(*ring)) == list(
        ServerCheckIn.objects.filter(server=full).values(*ring)
    )
