"""Registration: a one-time, expiring, revocable token becomes one server's own token."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from common.errors import Conflict, Forbidden, Invalid
from devices.servers import services
from devices.servers.models import CameraStationServer, ServerRegistrationToken, ServerToken
from organizations.models import AuditEvent
from organizations.tokens import hash_secret

pytestmark = pytest.mark.django_db
URL = "/api/v1/servers/register"


def _register(client, raw, **body):
    return client.post(URL, {"registration_token": raw, **body}, content_type="application/json")


@pytest.fixture
def raw_registration_token(admin, folders):
    _token, raw = services.create_registration_token(
        actor=admin, folder_id=folders.site_a.pk, name="Main recorder", valid_hours=24
    )
    return raw


def test_a_registration_token_is_stored_only_as_its_hash(raw_registration_token):
    token = ServerRegistrationToken.objects.get()
    assert token.token_hash == hash_secret(raw_registration_token)
    assert raw_registration_token not in str(token.__dict__)


def test_registering_creates_the_server_in_the_tokens_folder_and_answers_its_token(
    client, raw_registration_token, folders
):
    response = _register(client, raw_registration_token, name="Main", software_version="6.8.0")
    assert response.status_code == 201
    body = response.json()
    server = CameraStationServer.objects.get(pk=body["server_id"])
    assert (server.folder, server.organization) == (folders.site_a, folders.organization)
    assert server.software_version == "6.8.0"
    assert body["next_check_in_seconds"] == 60
    stored = ServerToken.objects.get(server=server)
    assert stored.token_hash == hash_secret(body["server_token"])
    assert AuditEvent.objects.filter(action="server.register", target_id=str(server.pk)).exists()


def test_a_used_registration_token_is_refused(client, raw_registration_token):
    assert _register(client, raw_registration_token).status_code == 201
    response = _register(client, raw_registration_token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "registration_token_used"
    assert CameraStationServer.objects.count() == 1


def test_an_expired_registration_token_is_refused(client, raw_registration_token):
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response = _register(client, raw_registration_token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "registration_token_expired"
    assert "expired" in response.json()["error"]["message"]
    assert not CameraStationServer.objects.exists()


def test_a_revoked_registration_token_is_refused(client, admin, raw_registration_token):
    services.revoke_registration_token(
        actor=admin, token_id=ServerRegistrationToken.objects.get().pk
    )
    response = _register(client, raw_registration_token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "registration_token_revoked"
    assert not CameraStationServer.objects.exists()


@pytest.mark.parametrize("raw", ["", "nonsense", "cfrdeadbeef00_wrong", "cfr\x00_x"])
def test_an_unknown_registration_token_is_refused(client, raw_registration_token, raw):
    response = _register(client, raw)
    assert response.status_code in (400, 401)
    assert not CameraStationServer.objects.exists()


def test_a_guessed_secret_with_a_real_prefix_is_refused(client, raw_registration_token):
    prefix = raw_registration_token.split("_")[0]
    response = _register(client, f"{prefix}_guessed-secret")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "registration_token_invalid"


@pytest.mark.django_db(transaction=True)
def test_two_servers_racing_with_one_token_make_one_server(
    admin, folders, race, raw_registration_token
):
    def attempt():
        return services.register_server(registration_token=raw_registration_token, name="x")

    outcomes = race(attempt, attempt)
    assert sum(isinstance(outcome, tuple) for outcome in outcomes) == 1
    refused = [o for o in outcomes if isinstance(o, services.Unauthorized)]
    assert [error.code for error in refused] == ["registration_token_used"]
    assert CameraStationServer.objects.count() == 1


def test_only_admins_create_registration_tokens(operator, folders):
    with pytest.raises(Forbidden):
        services.create_registration_token(
            actor=operator, folder_id=folders.site_a.pk, name="x", valid_hours=24
        )
    assert not ServerRegistrationToken.objects.exists()


def test_a_lifetime_outside_the_choices_is_refused(admin, folders):
    with pytest.raises(Invalid) as refused:
        services.create_registration_token(
            actor=admin, folder_id=folders.site_a.pk, name="x", valid_hours=10_000
        )
    assert "valid_hours" in refused.value.fields


def test_a_used_registration_token_cannot_be_revoked(client, admin, raw_registration_token):
    _register(client, raw_registration_token)
    token = ServerRegistrationToken.objects.get()
    with pytest.raises(Conflict) as refused:
        services.revoke_registration_token(actor=admin, token_id=token.pk)
    assert refused.value.code == "token_used"
