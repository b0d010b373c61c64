"""The demo data: two organizations with a folder tree, every role, grants and invitations."""

import io
from pathlib import Path

from django.core.management import call_command

from config.management.commands import seed_demo
from devices.models import Device
from organizations import access, audit
from organizations.models import Invitation, Membership, Organization
from organizations.roles import Role

ROOT = Path(__file__).resolve().parents[2]


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_builds_two_organizations_with_every_role(db):
    output = _seed()
    demo = Organization.objects.get(name="Demo Security Ltd")
    assert Organization.objects.filter(name="Kanto Retail").exists()
    roles = set(Membership.objects.filter(organization=demo).values_list("role", flat=True))
    assert roles == set(Role.values)
    viewer = Membership.objects.get(organization=demo, user__email="viewer@demo.camfleet.test")
    assert {f.name for f in access.visible_folders(viewer)} == {
        "Main building",
        "Lobby",
        "Server room",
    }
    assert Invitation.objects.filter(organization=demo, state="pending").count() == 2
    assert "owner@demo.camfleet.test" in output
    assert audit.verify_chain(demo) is None


def test_seed_demo_changes_nothing_the_second_time(db):
    _seed()
    counts = (
        Organization.objects.count(),
        Membership.objects.count(),
        Invitation.objects.count(),
        Device.objects.count(),
    )
    _seed()
    assert counts == (
        Organization.objects.count(),
        Membership.objects.count(),
        Invitation.objects.count(),
        Device.objects.count(),
    )


def test_seed_demo_onboards_the_simulated_fleet_the_procfile_starts(db):
    _seed()
    demo = Organization.objects.get(name="Demo Security Ltd")
    kanto = Organization.objects.get(name="Kanto Retail")
    devices = Device.objects.filter(organization=demo)
    assert devices.count() >= 50
    assert Device.objects.filter(organization=kanto).count() > 0
    # Spread over the demo organization's folders, not piled into one.
    assert devices.values("folder").distinct().count() >= 10
    # Not polled yet: the first health poll gives the status the simulator shows.
    assert set(devices.values_list("status", flat=True)) == {Device.Status.UNKNOWN}

    fleet = {camera.serial: camera for camera in seed_demo.simulated_fleet()}
    wrong = 0
    for device in Device.objects.all():
        camera = fleet[device.serial_number]
        assert (device.host, device.port) == (camera.host, camera.port)
        assert device.firmware_version == camera.initial_version
        wrong += device.password.reveal() != camera.admin_password
    assert wrong == len(seed_demo.WRONG_PASSWORD_CAMERAS)


def test_the_seed_and_the_procfile_describe_the_same_simulated_fleet():
    line = next(
        line
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("simulator:")
    )
    arguments = line.split()
    option = {
        name: arguments[arguments.index(name) + 1] for name in ("--count", "--first-port", "--seed")
    }
    assert (
        int(option["--count"]) == seed_demo.SIMULATOR_COUNT >= sum(seed_demo.DEMO_CAMERAS.values())
    )
    assert int(option["--first-port"]) == seed_demo.SIMULATOR_FIRST_PORT
    assert int(option["--seed"]) == seed_demo.SIMULATOR_SEED
