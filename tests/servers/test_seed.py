"""The `make run` demo: a few servers registered through the services, one of them late."""

import io
import json

import pytest
from django.core.management import call_command

from devices.servers import selectors
from devices.servers.models import CameraStationServer, ServerRelease

pytestmark = pytest.mark.django_db


def test_the_demo_has_four_servers_one_late_and_their_tokens_for_the_simulator(tmp_path):
    state = tmp_path / "servers.json"
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo_servers", "--state", str(state), stdout=io.StringIO())
    servers = list(CameraStationServer.objects.order_by("registered_at"))
    assert len(servers) == 4
    states = [selectors.connection_state(server).state for server in servers]
    assert states == [selectors.ONLINE] * 3 + [selectors.LATE]
    assert len(json.loads(state.read_text())["server_tokens"]) == 4
    assert ServerRelease.objects.get(is_recommended=True).version == "6.9.0"
    call_command("seed_demo_servers", "--state", str(state), stdout=io.StringIO())
    assert CameraStationServer.objects.count() == 4
