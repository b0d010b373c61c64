"""Growth allowance: devices beyond twice the allocation notify admins once per crossing."""

from datetime import timedelta

import pytest
from django.contrib import admin as django_admin
from django.core import mail
from django.test import RequestFactory

from devices import onboarding
from licensing import growth, services
from licensing.models import ProductRegistration
from organizations.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.devices.factories import DeviceFactory
from tests.licensing.factories import ProductFactory, fill_wallet


@pytest.fixture
def subscription(tenant):
    """A subscription 40 days in (past its grace period) with 1 license for 2 devices in use."""
    product = ProductFactory()
    fill_wallet(tenant.admin, product, 10)
    services.allocate_licenses(actor=tenant.admin, product_code=product.code, year=1, count=1)
    DeviceFactory.create_batch(2, folder=tenant.site_a)
    registration = ProductRegistration.objects.get(organization=tenant.organization)
    registration.subscription_started_on = services.today() - timedelta(days=40)
    registration.save(update_fields=["subscription_started_on"])
    return registration


def growth_events(organization):
    return AuditEvent.objects.filter(organization=organization, action="license.growth_exceeded")


def test_onboarding_a_device_beyond_the_allowance_mails_each_admin_in_their_language(
    tenant, subscription, clean_camera_fleet, django_capture_on_commit_callbacks
):
    tenant.owner.user.language = "ja"
    tenant.owner.user.save(update_fields=["language"])
    camera = clean_camera_fleet.by_product("P3265-V")
    with django_capture_on_commit_callbacks(execute=True):
        onboarding.onboard_device(
            actor=tenant.admin,
            folder_id=tenant.site_a.pk,
            host=camera.host,
            port=camera.port,
            scheme="http",
            username=camera.username,
            password=camera.password,
        )

    subscription.refresh_from_db()
    assert (subscription.growth_exceeded_year, subscription.growth_excess) == (1, 1)
    assert subscription.growth_exceeded_at is not None
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {tenant.owner.user.email, tenant.admin.user.email}
    english = by_recipient[tenant.admin.user.email]
    assert subscription.product.name in english.subject
    assert "Allocate 1 more license to this year now." in english.body
    japanese = by_recipient[tenant.owner.user.email]
    assert "成長許容量" in japanese.subject
    assert growth_events(tenant.organization).count() == 1


def test_a_crossing_notifies_once_and_the_next_crossing_again(
    tenant, subscription, django_capture_on_commit_callbacks
):
    DeviceFactory(folder=tenant.site_a)  # 3 devices, 1 allocated: 1 beyond the allowance
    with django_capture_on_commit_callbacks(execute=True):
        assert growth.check_growth_allowance(registration_id=subscription.pk)
        assert not growth.check_growth_allowance(registration_id=subscription.pk)
    assert len(mail.outbox) == 2  # owner and admin, once

    # Allocating the extra ends the crossing: the flag goes.
    services.allocate_licenses(
        actor=tenant.admin, product_code=subscription.product.code, year=1, count=1
    )
    assert not growth.check_growth_allowance(registration_id=subscription.pk)
    subscription.refresh_from_db()
    assert (subscription.growth_exceeded_year, subscription.growth_excess) == (None, 0)

    # Growing beyond the new allowance (2 x 2) is a new crossing.
    DeviceFactory.create_batch(3, folder=tenant.site_b)
    with django_capture_on_commit_callbacks(execute=True):
        assert growth.check_growth_allowance(registration_id=subscription.pk)
    subscription.refresh_from_db()
    assert subscription.growth_excess == 2
    assert len(mail.outbox) == 4
    assert growth_events(tenant.organization).count() == 2


def test_nothing_is_flagged_during_the_grace_period(tenant):
    product = ProductFactory()
    fill_wallet(tenant.admin, product, 10)
    DeviceFactory.create_batch(3, folder=tenant.site_a)  # nothing allocated yet
    registration = ProductRegistration.objects.get(organization=tenant.organization)
    assert not growth.check_growth_allowance(registration_id=registration.pk)
    registration.refresh_from_db()
    assert registration.growth_exceeded_year is None
    assert not growth_events(tenant.organization).exists()


def test_an_alert_for_a_crossing_that_is_over_is_not_sent(tenant, subscription):
    DeviceFactory(folder=tenant.site_a)
    growth.check_growth_allowance(registration_id=subscription.pk)  # e-mail queued, not sent
    services.allocate_licenses(
        actor=tenant.admin, product_code=subscription.product.code, year=1, count=1
    )
    growth.check_growth_allowance(registration_id=subscription.pk)
    assert growth.deliver_growth_alerts(registration_id=subscription.pk, year=1) == 0
    assert mail.outbox == []


def test_staff_see_and_filter_the_registrations_beyond_their_allowance(tenant, subscription):
    DeviceFactory(folder=tenant.site_a)
    growth.check_growth_allowance(registration_id=subscription.pk)
    other = ProductRegistration.objects.create(
        organization=tenant.organization, product=ProductFactory(), trial_started_on="2027-01-01"
    )
    model_admin = django_admin.site._registry[ProductRegistration]
    request = RequestFactory().get("/admin/licensing/productregistration/", {"growth": "exceeded"})
    request.user = UserFactory(is_staff=True, is_superuser=True)
    changelist = model_admin.get_changelist_instance(request)
    [flagged] = changelist.get_queryset(request)
    assert flagged == subscription
    assert model_admin.growth_status(flagged) == "Exceeded in year 1: 1 to allocate now"
    assert model_admin.growth_status(other) == "—"
