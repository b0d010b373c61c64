"""Device accounts (devices.accounts) against simulated cameras over real HTTP.

Every change is checked on the device itself, through a client of its own (not through the
service under test): the account is listed with its role, its password signs in, and so on.
"""

import json
import logging

import pytest

from common.errors import Conflict, Forbidden, Invalid, NotFound
from devices import accounts
from devices.accounts import AccountRefused
from devices.errors import DeviceUnavailable
from devices.vapix import AuthFailed, DeviceRole, VapixClient
from organizations.models import AuditEvent
from tests.devices.onboarded import onboard
from tests.support.fleet import SIMULATED_PRODUCTS

pytestmark = pytest.mark.django_db

MARKER_PASSWORD = "Marker-pw-77e1f0"
RECORDER_AGENT = {
    "name": "recorderagent",
    "nice_name": "Example Recorder Agent",
    "vendor": "Example Video Systems",
    "version": "2.0.7",
    "license": "Custom",
}


def _device_client(camera, username=None, password=None) -> VapixClient:
    """A client of the test's own, straight to the camera (not through the service)."""
    return VapixClient(
        camera.host,
        port=camera.port,
        username=username or camera.username,
        password=password or camera.password,
        retries=0,
    )


def _users_on(camera) -> dict:
    with _device_client(camera) as client:
        return {user.name: user for user in client.list_users()}


def _signs_in(camera, username, password) -> bool:
    try:
        with _device_client(camera, username, password) as client:
            client.whoami()
    except AuthFailed:
        return False
    return True


@pytest.fixture
def camera(clean_camera_fleet):
    return clean_camera_fleet.by_product("P3265-V")


@pytest.fixture
def device(tenant, camera):
    return onboard(tenant.admin, tenant.site_a, camera)


def _events(tenant, action):
    return list(AuditEvent.objects.filter(organization=tenant.organization, action=action))


def test_the_list_shows_the_devices_accounts_with_roles_and_marks_the_service_account(
    tenant, device
):
    listing = accounts.list_accounts(actor=tenant.admin, device=device)
    by_name = {account.name: account for account in listing.accounts}
    assert set(by_name) == {"root", "operator", "viewer"}
    assert by_name["root"].role == DeviceRole.ADMIN
    assert by_name["operator"].role == DeviceRole.OPERATOR
    assert by_name["viewer"].role == DeviceRole.VIEWER
    assert [use.kind for use in by_name["root"].used_by] == ["service"]
    assert by_name["root"].is_protected
    assert not by_name["operator"].is_protected
    assert not by_name["viewer"].is_protected


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("ptz", [False, True])
def test_an_admin_creates_an_account_of_each_role_with_or_without_ptz(
    tenant, device, camera, role, ptz
):
    account = accounts.create_account(
        actor=tenant.admin,
        device=device,
        name="nocuser",
        password=MARKER_PASSWORD,
        role=role,
        ptz=ptz,
    )
    assert (account.name, account.role, account.ptz) == ("nocuser", DeviceRole(role), ptz)
    on_device = _users_on(camera)["nocuser"]
    assert (on_device.role, on_device.ptz) == (DeviceRole(role), ptz)
    assert _signs_in(camera, "nocuser", MARKER_PASSWORD)
    [event] = _events(tenant, "device.account_create")
    assert event.target_id == str(device.pk)
    assert event.data == {
        "account": "nocuser",
        "before": None,
        "after": {"role": role, "ptz": ptz},
    }


def test_an_admin_changes_a_password_and_only_the_new_one_works(tenant, device, camera):
    accounts.change_password(
        actor=tenant.admin, device=device, name="operator", password=MARKER_PASSWORD
    )
    assert _signs_in(camera, "operator", MARKER_PASSWORD)
    assert not _signs_in(camera, "operator", camera.operator_password)
    [event] = _events(tenant, "device.account_password")
    assert event.data["account"] == "operator"


def test_an_admin_deletes_an_account(tenant, device, camera):
    accounts.delete_account(actor=tenant.admin, device=device, name="viewer")
    assert "viewer" not in _users_on(camera)
    assert not _signs_in(camera, "viewer", camera.viewer_password)
    [event] = _events(tenant, "device.account_delete")
    assert event.data == {
        "account": "viewer",
        "before": {"role": "viewer", "ptz": False},
        "after": None,
    }


@pytest.mark.parametrize("name", ["", "has space", "dash-name", "fifteencharsxyz", "ünïcode"])
def test_a_name_the_device_would_refuse_is_refused_before_anything_is_sent(
    tenant, device, camera, clean_camera_fleet, name
):
    log_before = len(clean_camera_fleet.state(camera.serial)["log"])
    with pytest.raises(Invalid) as refused:
        accounts.create_account(
            actor=tenant.admin, device=device, name=name, password=MARKER_PASSWORD, role="viewer"
        )
    assert refused.value.code == "invalid_account_name"
    assert "name" in refused.value.fields
    assert len(clean_camera_fleet.state(camera.serial)["log"]) == log_before


@pytest.mark.parametrize("password", ["", "x" * 65, "tab\tin", "naïve-password"])
def test_a_password_outside_the_devices_rules_is_refused_before_sending(tenant, device, password):
    with pytest.raises(Invalid) as refused:
        accounts.create_account(
            actor=tenant.admin, device=device, name="nocuser", password=password, role="viewer"
        )
    assert "password" in refused.value.fields


def test_an_unknown_role_is_refused(tenant, device):
    with pytest.raises(Invalid) as refused:
        accounts.create_account(
            actor=tenant.admin, device=device, name="nocuser", password=MARKER_PASSWORD, role="root"
        )
    assert "role" in refused.value.fields


def test_a_name_that_exists_shows_the_devices_own_refusal(tenant, device):
    with pytest.raises(AccountRefused) as refused:
        accounts.create_account(
            actor=tenant.admin, device=device, name="viewer", password=MARKER_PASSWORD, role="admin"
        )
    assert refused.value.code == "device_refused"
    assert refused.value.http_status == 409
    assert "this user name already exists" in str(refused.value.message)
    assert "name" in refused.value.fields


def test_the_devices_passphrase_policy_is_checked_before_sending(
    tenant, device, camera, clean_camera_fleet
):
    # AXIS OS 12 says its policy in systemready: the service asks and refuses with a hint.
    clean_camera_fleet.set_knobs(camera.serial, passphrase_policy="complex")
    with pytest.raises(Invalid) as refused:
        accounts.create_account(
            actor=tenant.admin,
            device=device,
            name="nocuser",
            password="longbutsimple",
            role="viewer",
        )
    assert "12 characters" in str(refused.value.message)
    assert "nocuser" not in _users_on(camera)
    account = accounts.create_account(
        actor=tenant.admin, device=device, name="nocuser", password="Str0ng&Complex", role="viewer"
    )
    assert account.name in _users_on(camera)


def test_a_weak_password_the_device_refuses_shows_its_refusal_and_a_policy_hint(
    tenant, clean_camera_fleet
):
    # AXIS OS 11 does not say its policy: only the device's answer tells.
    camera = clean_camera_fleet.by_product("M1075-L")
    device = onboard(tenant.admin, tenant.site_a, camera)
    clean_camera_fleet.set_knobs(camera.serial, passphrase_policy="length")
    with pytest.raises(AccountRefused) as refused:
        accounts.create_account(
            actor=tenant.admin, device=device, name="nocuser", password="short-pass", role="viewer"
        )
    assert "invalid password" in str(refused.value.message)
    assert "passphrase policy" in str(refused.value.message)
    assert "password" in refused.value.fields
    assert "nocuser" not in _users_on(camera)
    with pytest.raises(AccountRefused):
        accounts.change_password(
            actor=tenant.admin, device=device, name="viewer", password="short-pass"
        )
    assert _signs_in(camera, "viewer", camera.viewer_password)
    assert _events(tenant, "device.account_create") == []
    assert _events(tenant, "device.account_password") == []


def test_the_service_account_is_used_by_the_service_and_cannot_be_changed_or_deleted(
    tenant, device, camera
):
    with pytest.raises(Conflict) as refused:
        accounts.change_password(
            actor=tenant.admin, device=device, name="root", password=MARKER_PASSWORD
        )
    assert refused.value.code == "account_in_use"
    assert "this service" in str(refused.value.message)
    with pytest.raises(Conflict) as refused:
        accounts.delete_account(actor=tenant.admin, device=device, name="root")
    assert refused.value.code == "account_in_use"
    assert _signs_in(camera, "root", camera.password)
    assert _events(tenant, "device.account_password") == []
    assert _events(tenant, "device.account_delete") == []


def test_an_applications_account_is_marked_and_cannot_be_changed_or_deleted(
    tenant, device, camera, clean_camera_fleet
):
    clean_camera_fleet.set_applications(camera.serial, [RECORDER_AGENT])
    with _device_client(camera) as client:
        client.add_user("recorderagent", "agent-pass-1", DeviceRole.OPERATOR)
    listing = accounts.list_accounts(actor=tenant.admin, device=device)
    agent = next(a for a in listing.accounts if a.name == "recorderagent")
    assert [use.kind for use in agent.used_by] == ["application"]
    assert "Example Recorder Agent" in agent.used_by_text
    with pytest.raises(Conflict) as refused:
        accounts.change_password(
            actor=tenant.admin, device=device, name="recorderagent", password=MARKER_PASSWORD
        )
    assert "Example Recorder Agent" in str(refused.value.message)
    with pytest.raises(Conflict):
        accounts.delete_account(actor=tenant.admin, device=device, name="recorderagent")
    assert _signs_in(camera, "recorderagent", "agent-pass-1")
    # Once the application is uninstalled, the account is an ordinary one again.
    clean_camera_fleet.set_applications(camera.serial, [])
    accounts.delete_account(actor=tenant.admin, device=device, name="recorderagent")
    assert "recorderagent" not in _users_on(camera)


def test_the_application_account_rule():
    application = accounts.Application(
        name="Object-Analytics_2", nice_name="", vendor="", version="", status=""
    )
    assert accounts.application_account_name(application) == "objectanalytic"


def test_root_is_permanent_before_axis_os_11_5(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.by_product("M3066-V")  # AXIS OS 10.12
    with _device_client(camera) as client:
        client.add_user("fleetsvc", "fleet-pass-1", DeviceRole.ADMIN, ptz=True)
    device = onboard(
        tenant.admin, tenant.site_a, camera, username="fleetsvc", password="fleet-pass-1"
    )
    with pytest.raises(Conflict) as refused:
        accounts.delete_account(actor=tenant.admin, device=device, name="root")
    assert refused.value.code == "account_permanent"
    assert "root" in _users_on(camera)


def test_deleting_an_account_the_device_does_not_have_is_not_found(tenant, device):
    with pytest.raises(NotFound):
        accounts.delete_account(actor=tenant.admin, device=device, name="nobody")


def test_an_unreachable_device_says_so(tenant, device, camera, clean_camera_fleet):
    clean_camera_fleet.set_fault(camera.serial, "offline")
    with pytest.raises(DeviceUnavailable) as failed:
        accounts.list_accounts(actor=tenant.admin, device=device)
    assert failed.value.code in ("unreachable", "timeout")


def test_operators_may_not_manage_accounts_and_viewers_do_not_see_other_folders(tenant, device):
    with pytest.raises(Forbidden):
        accounts.list_accounts(actor=tenant.operator, device=device)
    with pytest.raises(Forbidden):
        accounts.create_account(
            actor=tenant.operator, device=device, name="x1", password=MARKER_PASSWORD, role="viewer"
        )
    # The viewer is granted building_a1 only; the device is in site_a above it.
    with pytest.raises(NotFound):
        accounts.delete_account(actor=tenant.viewer, device=device, name="viewer")


def test_another_organizations_admin_does_not_find_the_device(tenant, other_tenant, device):
    with pytest.raises(NotFound):
        accounts.list_accounts(actor=other_tenant.admin, device=device)
    with pytest.raises(NotFound):
        accounts.delete_account(actor=other_tenant.owner, device=device, name="viewer")


def test_no_password_reaches_the_audit_log_or_the_logs(tenant, device, caplog):
    caplog.set_level(logging.DEBUG)
    accounts.create_account(
        actor=tenant.admin, device=device, name="nocuser", password=MARKER_PASSWORD, role="viewer"
    )
    accounts.change_password(
        actor=tenant.admin, device=device, name="nocuser", password=MARKER_PASSWORD + "2"
    )
    accounts.delete_account(actor=tenant.admin, device=device, name="nocuser")
    events = AuditEvent.objects.filter(organization=tenant.organization)
    dumped = json.dumps([event.data for event in events])
    assert len(events) >= 4  # the onboarding and the three changes
    assert MARKER_PASSWORD not in dumped
    assert MARKER_PASSWORD not in caplog.text
    assert device.password.reveal() not in dumped


@pytest.mark.django_db(transaction=True)
def test_two_admins_creating_the_same_account_at_once_one_is_refused_by_the_device(
    tenant, clean_camera_fleet, race
):
    camera = clean_camera_fleet.by_product("P3265-V")
    device = onboard(tenant.admin, tenant.site_a, camera)

    def create_as(membership, password):
        return lambda: accounts.create_account(
            actor=membership, device=device, name="twin1", password=password, role="viewer"
        )

    outcomes = race(
        create_as(tenant.admin, "first-pass-1"), create_as(tenant.owner, "other-pass-2")
    )
    created = [outcome for outcome in outcomes if isinstance(outcome, accounts.DeviceAccount)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, AccountRefused)]
    assert (len(created), len(refused)) == (1, 1), outcomes
    assert "already exists" in str(refused[0].message)
    assert AuditEvent.objects.filter(action="device.account_create").count() == 1
    winner = outcomes.index(created[0])
    assert _signs_in(camera, "twin1", ["first-pass-1", "other-pass-2"][winner])


@pytest.mark.parametrize("product", SIMULATED_PRODUCTS)
def test_every_simulated_firmware_lists_and_creates_accounts(tenant, clean_camera_fleet, product):
    # From AXIS OS 12.11 down to the legacy 5.51 without the JSON APIs or applications.
    camera = clean_camera_fleet.by_product(product)
    device = onboard(tenant.admin, tenant.site_a, camera)
    listing = accounts.list_accounts(actor=tenant.admin, device=device)
    root = next(account for account in listing.accounts if account.name == "root")
    assert [use.kind for use in root.used_by] == ["service"]
    accounts.create_account(
        actor=tenant.admin, device=device, name="nocuser", password=MARKER_PASSWORD, role="operator"
    )
    assert _users_on(camera)["nocuser"].role == DeviceRole.OPERATOR
