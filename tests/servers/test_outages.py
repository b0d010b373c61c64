"""Outage alerts: one e-mail per outage to the admins, none while an upgrade installs."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from devices.servers import selectors, services
from devices.servers import tasks as server_tasks
from devices.servers.models import CameraStationServer
from tests.servers.conftest import check_in
from tests.servers.factories import ServerReleaseFactory

pytestmark = pytest.mark.django_db


def _later(minutes: int):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes))


@override_settings(SERVER_OFFLINE_AFTER=600)
def test_a_silent_server_sends_one_email_per_outage_to_the_admins(
    client, registered, owner, admin, operator, django_capture_on_commit_callbacks
):
    server, raw = registered
    check_in(client, raw)
    with _later(11), django_capture_on_commit_callbacks(execute=True):
        server_tasks.watch_servers()
        server_tasks.watch_servers()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.user.email, admin.user.email])
    assert server.name in mail.outbox[0].subject
    server.refresh_from_db()
    assert server.outage_alerted_at is not None
    with _later(12):
        check_in(client, raw)
    server.refresh_from_db()
    assert server.outage_alerted_at is None
    with _later(30), django_capture_on_commit_callbacks(execute=True):
        server_tasks.watch_servers()
    assert len(mail.outbox) == 4  # a new outage, a new e-mail to each admin


@override_settings(SERVER_OFFLINE_AFTER=600)
def test_a_server_that_is_late_but_not_offline_raises_no_alert(client, registered):
    check_in(client, registered[1])
    with _later(5):
        assert services.alert_outages() == []
        server = CameraStationServer.objects.get()
        assert selectors.connection_state(server).state == selectors.LATE
    assert not mail.outbox


@override_settings(SERVER_OFFLINE_AFTER=600, SERVER_UPGRADE_TIMEOUT=3600)
def test_no_alert_while_an_upgrade_is_installing(client, admin, registered):
    server, raw = registered
    release = ServerReleaseFactory(version="6.9.0")
    upgrade = services.queue_server_upgrade(actor=admin, server_id=server.pk, release_id=release.pk)
    check_in(client, raw)
    check_in(client, raw, upgrade={"id": str(upgrade.pk), "state": "installing"})
    with _later(30):
        assert services.alert_outages() == []
        server.refresh_from_db()
        connection = selectors.connection_state(server, is_upgrading=True)
        assert connection.state == selectors.UPGRADING


@override_settings(SERVER_OFFLINE_AFTER=600)
def test_the_alert_is_not_sent_when_the_server_came_back_before_the_mail_went_out(
    client, registered
):
    server, raw = registered
    check_in(client, raw)
    with _later(11):
        services.alert_outages()  # its e-mail task not run yet
        outage_at = CameraStationServer.objects.get().outage_alerted_at
    with _later(12):
        check_in(client, raw)
    assert services.deliver_outage_email(server_id=server.pk, outage_at=outage_at.isoformat()) == 0
    assert not mail.outbox
