"""Server pages: what each role may see and do, on servers inside and outside their folders."""

import pytest
from django.urls import reverse

from devices.servers import services
from devices.servers.models import CameraStationServer, ServerRegistrationToken, ServerUpgrade
from organizations.models import AuditEvent
from tests.servers.conftest import check_in, register
from tests.servers.factories import ServerReleaseFactory

pytestmark = pytest.mark.django_db


def _url(name, organization, *args):
    return reverse(f"servers:{name}", args=[organization.pk, *args])


@pytest.fixture
def release(db):
    return ServerReleaseFactory(version="6.9.0", is_recommended=True)


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 200), ("admin", 200), ("operator", 200), ("viewer", 403)]
)
def test_who_sees_the_server_list(client, tenant, registered, who, status):
    client.force_login(getattr(tenant, who).user)
    response = client.get(_url("server-list", tenant.organization))
    assert response.status_code == status
    if status == 200:
        assert registered[0].name in response.content.decode()


def test_the_list_shows_status_version_storage_and_upgrade_recommended(
    client, tenant, registered, release
):
    check_in(client, registered[1], storage={"used_bytes": 750, "total_bytes": 1000})
    client.force_login(tenant.operator.user)
    page = client.get(_url("server-list", tenant.organization)).content.decode()
    assert "Online" in page
    assert "6.8.0" in page
    assert "Upgrade recommended" in page
    assert 'aria-valuenow="75"' in page


def test_an_operator_does_not_see_servers_outside_their_folders(client, tenant):
    hidden, _raw = register(tenant.admin, tenant.site_b, name="Hidden recorder")
    client.force_login(tenant.operator.user)
    assert (
        "Hidden recorder"
        not in client.get(_url("server-list", tenant.organization)).content.decode()
    )
    assert client.get(_url("server-detail", tenant.organization, hidden.pk)).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 200), ("admin", 200), ("operator", 200), ("viewer", 403)]
)
def test_who_sees_a_server_in_their_folder(client, tenant, who, status):
    # building_a1 is inside every member's grants (the viewer's own grant).
    server, raw = register(tenant.admin, tenant.building_a1)
    check_in(client, raw)
    client.force_login(getattr(tenant, who).user)
    response = client.get(_url("server-detail", tenant.organization, server.pk))
    assert response.status_code == status
    if status == 200:
        assert "Check-in history" in response.content.decode()


def test_the_detail_page_offers_upgrades_to_admins_only(client, tenant, registered, release):
    server = registered[0]
    client.force_login(tenant.operator.user)
    assert (
        "Upgrade server"
        not in client.get(_url("server-detail", tenant.organization, server.pk)).content.decode()
    )
    client.force_login(tenant.admin.user)
    assert (
        "Upgrade server"
        in client.get(_url("server-detail", tenant.organization, server.pk)).content.decode()
    )


# The server is in site_a: the viewer's grant is building_a1 below it, so site_a is not theirs.
@pytest.mark.parametrize(("who", "status"), [("admin", 302), ("operator", 403), ("viewer", 404)])
def test_who_may_queue_an_upgrade(client, tenant, registered, release, who, status):
    server = registered[0]
    client.force_login(getattr(tenant, who).user)
    response = client.post(
        _url("server-upgrade", tenant.organization, server.pk), {"release": release.pk}
    )
    assert response.status_code == status
    assert ServerUpgrade.objects.filter(server=server).exists() is (status == 302)


def test_the_cancel_button_says_why_once_the_upgrade_was_picked_up(
    client, tenant, registered, release
):
    server, raw = registered
    client.force_login(tenant.admin.user)
    client.post(_url("server-upgrade", tenant.organization, server.pk), {"release": release.pk})
    page = client.get(_url("server-detail", tenant.organization, server.pk)).content.decode()
    assert "It can be cancelled until the server picks it up" in page
    check_in(client, raw)
    page = client.get(_url("server-detail", tenant.organization, server.pk)).content.decode()
    assert "disabled" in page
    assert "cannot be cancelled any more" in page
    upgrade = ServerUpgrade.objects.get()
    response = client.post(_url("server-upgrade-cancel", tenant.organization, upgrade.pk))
    assert response.status_code == 409
    upgrade.refresh_from_db()
    assert upgrade.state == ServerUpgrade.State.PICKED_UP


@pytest.mark.parametrize(("who", "status"), [("admin", 302), ("operator", 403)])
def test_who_may_cancel_a_queued_upgrade(client, tenant, registered, release, who, status):
    upgrade = services.queue_server_upgrade(
        actor=tenant.admin, server_id=registered[0].pk, release_id=release.pk
    )
    client.force_login(getattr(tenant, who).user)
    response = client.post(_url("server-upgrade-cancel", tenant.organization, upgrade.pk))
    assert response.status_code == status
    upgrade.refresh_from_db()
    assert (upgrade.state == ServerUpgrade.State.CANCELLED) is (status == 302)


@pytest.mark.parametrize(("who", "status"), [("admin", 302), ("operator", 403), ("viewer", 403)])
def test_who_may_revoke_a_server_token(client, tenant, who, status):
    server, raw = register(tenant.admin, tenant.building_a1)
    client.force_login(getattr(tenant, who).user)
    response = client.post(_url("server-token-revoke", tenant.organization, server.pk))
    assert response.status_code == status
    assert check_in(client, raw).status_code == (401 if status == 302 else 200)


@pytest.mark.parametrize(("who", "status"), [("admin", 302), ("operator", 403), ("viewer", 403)])
def test_who_may_remove_a_server(client, tenant, who, status):
    server, _raw = register(tenant.admin, tenant.building_a1)
    client.force_login(getattr(tenant, who).user)
    response = client.post(_url("server-remove", tenant.organization, server.pk))
    assert response.status_code == status
    assert CameraStationServer.objects.filter(pk=server.pk).exists() is (status != 302)
    if status == 302:
        assert AuditEvent.objects.filter(action="server.remove").exists()


def test_removing_a_server_asks_first(client, tenant, registered):
    client.force_login(tenant.admin.user)
    response = client.get(_url("server-remove", tenant.organization, registered[0].pk))
    assert response.status_code == 200
    assert CameraStationServer.objects.filter(pk=registered[0].pk).exists()


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 200), ("admin", 200), ("operator", 403), ("viewer", 403)]
)
def test_who_sees_registration_tokens(client, tenant, who, status):
    client.force_login(getattr(tenant, who).user)
    assert client.get(_url("registration-token-list", tenant.organization)).status_code == status


def test_a_created_registration_token_is_shown_once(client, tenant):
    client.force_login(tenant.admin.user)
    url = _url("registration-token-list", tenant.organization)
    response = client.post(
        url, {"name": "Recorder HQ", "folder_id": str(tenant.site_a.pk), "valid_hours": "24"}
    )
    assert response.status_code == 200
    raw = response.context["raw_token"]
    assert raw
    assert raw in response.content.decode()
    token = ServerRegistrationToken.objects.get()
    assert token.target_folder == tenant.site_a
    assert raw not in client.get(url).content.decode()
    assert services.register_server(registration_token=raw, name="HQ")[0].folder == tenant.site_a


def test_a_registration_token_without_a_name_is_refused_with_a_message(client, tenant):
    client.force_login(tenant.admin.user)
    response = client.post(
        _url("registration-token-list", tenant.organization),
        {"name": "", "folder_id": str(tenant.site_a.pk), "valid_hours": "24"},
    )
    assert response.status_code == 400
    assert not ServerRegistrationToken.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("admin", 302), ("operator", 403), ("viewer", 403)])
def test_who_may_revoke_a_registration_token(client, tenant, who, status):
    token, _raw = services.create_registration_token(
        actor=tenant.admin, folder_id=tenant.building_a1.pk, name="x", valid_hours=1
    )
    client.force_login(getattr(tenant, who).user)
    response = client.post(_url("registration-token-revoke", tenant.organization, token.pk))
    assert response.status_code == status
    token.refresh_from_db()
    assert (token.revoked_at is not None) is (status == 302)


def test_the_side_navigation_offers_servers_to_operators_not_viewers(client, tenant):
    url = reverse("organizations:organization-detail", args=[tenant.organization.pk])
    servers = _url("server-list", tenant.organization)
    client.force_login(tenant.operator.user)
    assert servers in client.get(url).content.decode()
    client.force_login(tenant.viewer.user)
    assert servers not in client.get(url).content.decode()


def test_a_clock_skew_warning_shows_on_the_detail_page(client, tenant, registered):
    from datetime import timedelta

    from django.utils import timezone

    check_in(client, registered[1], sent_at=(timezone.now() + timedelta(hours=2)).isoformat())
    client.force_login(tenant.admin.user)
    page = client.get(_url("server-detail", tenant.organization, registered[0].pk)).content
    assert "120 minutes ahead" in page.decode()
