"""The offline alert: owners and admins e-mailed once per outage, in their own language."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from devices import health, services, tasks
from devices.models import Device
from tests.devices.factories import DeviceFactory
from tests.devices.test_health import device_for

pytestmark = pytest.mark.usefixtures("clean_camera_fleet")


def age_outage(device, minutes: int) -> None:
    """Pretend the device's current outage began `minutes` ago."""
    Device.objects.filter(pk=device.pk).update(
        offline_since=timezone.now() - timedelta(minutes=minutes)
    )


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_owners_and_admins_are_mailed_once_when_an_outage_lasts_too_long(
    tenant, clean_camera_fleet, settings
):
    settings.DEVICE_OFFLINE_ALERT_AFTER = 15 * 60
    camera = clean_camera_fleet.cameras[0]
    device = device_for(camera, tenant.site_a, status=Device.Status.ONLINE)
    clean_camera_fleet.set_fault(camera.serial, "offline")
    health.poll_device(device.pk)
    tasks.queue_offline_alerts()
    assert mail.outbox == []  # offline, but not for long yet

    age_outage(device, 16)
    tasks.queue_offline_alerts()
    assert recipients() == sorted([tenant.owner.user.email, tenant.admin.user.email])
    message = mail.outbox[0]
    assert device.name in message.subject
    assert tenant.organization.name in message.subject
    assert device.serial_number in message.body
    assert "could not be reached" in message.body  # the reason the poll gave

    # Still offline at the next polls and ticks: no second e-mail for the same outage.
    health.poll_device(device.pk)
    tasks.queue_offline_alerts()
    assert len(mail.outbox) == 2


def test_the_next_outage_gets_its_own_alert(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    device = device_for(camera, tenant.site_a, status=Device.Status.ONLINE)
    for _outage in range(2):
        clean_camera_fleet.set_fault(camera.serial, "offline")
        health.poll_device(device.pk)
        age_outage(device, 60)
        tasks.queue_offline_alerts()
        tasks.queue_offline_alerts()
        clean_camera_fleet.clear_faults(camera.serial)
        assert health.poll_device(device.pk).status == Device.Status.ONLINE
    assert len(mail.outbox) == 2 * 2  # owner and admin, once per outage


def test_offline_then_unreachable_is_one_outage(tenant, clean_camera_fleet):
    camera = clean_camera_fleet.cameras[0]
    device = device_for(camera, tenant.site_a, status=Device.Status.ONLINE)
    clean_camera_fleet.set_fault(camera.serial, "offline")
    health.poll_device(device.pk)
    age_outage(device, 60)
    tasks.queue_offline_alerts()
    services.record_device_status(device_id=device.pk, status="unreachable", reason="DNS")
    tasks.queue_offline_alerts()
    assert len(mail.outbox) == 2


def test_auth_failed_is_not_an_outage(tenant, clean_camera_fleet):
    device = device_for(clean_camera_fleet.cameras[0], tenant.site_a, password="wrong")
    health.poll_device(device.pk)
    Device.objects.filter(pk=device.pk).update(status_changed_at=timezone.now() - timedelta(days=1))
    tasks.queue_offline_alerts()
    assert mail.outbox == []


def test_the_alert_is_in_the_recipients_language(tenant):
    tenant.admin.user.language = "ja"
    tenant.admin.user.save()
    device = DeviceFactory(folder=tenant.site_a)
    services.record_device_status(device_id=device.pk, status="offline", reason="")
    age_outage(device, 60)
    tasks.queue_offline_alerts()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert "オフライン" in by_recipient[tenant.admin.user.email].subject
    assert "offline" in by_recipient[tenant.owner.user.email].subject


def test_an_outage_that_ended_before_the_mail_went_out_is_not_mailed(tenant):
    device = DeviceFactory(folder=tenant.site_a)
    services.record_device_status(device_id=device.pk, status="offline", reason="")
    age_outage(device, 60)
    alerts = services.claim_offline_alerts(offline_for=timedelta(minutes=15))
    services.record_device_status(device_id=device.pk, status="online", reason="")
    for alert in alerts:
        for user_id in alert.recipient_ids:
            tasks.send_offline_alert.delay(
                str(alert.device_id), alert.offline_since.isoformat(), user_id
            )
    assert [alert.device_id for alert in alerts] == [device.pk]
    assert mail.outbox == []


def test_operators_viewers_and_other_organizations_are_not_mailed(tenant, other_tenant):
    device = DeviceFactory(folder=tenant.site_a)
    services.record_device_status(device_id=device.pk, status="offline", reason="")
    age_outage(device, 60)
    tasks.queue_offline_alerts()
    mailed = set(recipients())
    assert mailed == {tenant.owner.user.email, tenant.admin.user.email}
