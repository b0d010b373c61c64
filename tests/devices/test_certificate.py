"""Accepting a changed certificate: the service's rules, the page and the API, per role."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from common.errors import Conflict, Forbidden, Invalid, NotFound
from devices import services
from devices.models import Device, DeviceStatusChange
from organizations.models import AuditEvent
from tests.devices.factories import DeviceFactory
from tests.support.cast import build_tenant

PINNED = "11" * 32
PRESENTED = "22" * 32


@pytest.fixture
def changed(tenant):
    """An HTTPS device in the viewer's and operator's folder whose certificate changed."""
    return DeviceFactory(
        folder=tenant.building_a1,
        scheme=Device.Scheme.HTTPS,
        port=443,
        certificate_fingerprint=PINNED,
        presented_fingerprint=PRESENTED,
        status=Device.Status.CERTIFICATE_CHANGED,
    )


def page_url(device) -> str:
    return reverse("devices:device-accept-certificate", args=[device.organization_id, device.pk])


def api_url(device) -> str:
    return reverse("api:device-accept-certificate", args=[device.organization_id, device.pk])


# --- Service --------------------------------------------------------------------------------


def test_an_admin_pins_the_presented_certificate_audited_with_before_and_after(tenant, changed):
    device = services.accept_certificate(
        actor=tenant.admin, device_id=changed.pk, fingerprint=":".join([PRESENTED[:2]] * 32)
    )
    device.refresh_from_db()
    assert device.certificate_fingerprint == PRESENTED
    assert device.presented_fingerprint == ""
    assert device.status == Device.Status.UNKNOWN
    assert device.next_poll_at is not None
    event = AuditEvent.objects.get(action="device.certificate_accept")
    assert event.data == {"certificate_fingerprint": {"from": PINNED, "to": PRESENTED}}
    change = DeviceStatusChange.objects.get(device=device)
    assert (change.previous_status, change.status) == ("certificate_changed", "unknown")
    assert tenant.admin.user.email in change.reason


def test_a_fingerprint_the_device_no_longer_presents_is_refused(tenant, changed):
    with pytest.raises(Conflict) as refusal:
        services.accept_certificate(actor=tenant.admin, device_id=changed.pk, fingerprint=PINNED)
    assert refusal.value.code == "certificate_not_presented"
    changed.refresh_from_db()
    assert changed.certificate_fingerprint == PINNED
    assert not AuditEvent.objects.filter(action="device.certificate_accept").exists()


def test_a_second_admin_accepting_the_same_certificate_changes_nothing(tenant, changed):
    services.accept_certificate(actor=tenant.admin, device_id=changed.pk, fingerprint=PRESENTED)
    services.accept_certificate(actor=tenant.owner, device_id=changed.pk, fingerprint=PRESENTED)
    assert AuditEvent.objects.filter(action="device.certificate_accept").count() == 1


def test_two_admins_at_once_accept_once(transactional_db, race):
    tenant = build_tenant("Race")
    device = DeviceFactory(
        folder=tenant.site_a,
        certificate_fingerprint=PINNED,
        presented_fingerprint=PRESENTED,
        status=Device.Status.CERTIFICATE_CHANGED,
    )
    outcomes = race(
        *[
            lambda actor=actor: services.accept_certificate(
                actor=actor, device_id=device.pk, fingerprint=PRESENTED
            )
            for actor in (tenant.admin, tenant.owner)
        ]
    )
    assert all(isinstance(outcome, Device) for outcome in outcomes)
    assert AuditEvent.objects.filter(action="device.certificate_accept").count() == 1


def test_something_that_is_not_a_fingerprint_is_invalid(tenant, changed):
    with pytest.raises(Invalid):
        services.accept_certificate(actor=tenant.admin, device_id=changed.pk, fingerprint="zz")


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_cannot_accept(tenant, changed, role):
    with pytest.raises(Forbidden):
        services.accept_certificate(
            actor=getattr(tenant, role), device_id=changed.pk, fingerprint=PRESENTED
        )


def test_a_device_of_another_organization_is_not_found(tenant, other_tenant):
    device = DeviceFactory(
        folder=other_tenant.site_a,
        presented_fingerprint=PRESENTED,
        status=Device.Status.CERTIFICATE_CHANGED,
    )
    with pytest.raises(NotFound):
        services.accept_certificate(actor=tenant.admin, device_id=device.pk, fingerprint=PRESENTED)


# --- Page -----------------------------------------------------------------------------------


def test_the_page_shows_both_fingerprints_and_accepts_on_confirmation(client, tenant, changed):
    client.force_login(tenant.admin.user)
    page = client.get(page_url(changed))
    assert page.status_code == 200
    html = page.content.decode()
    assert PINNED in html
    assert PRESENTED in html
    answer = client.post(page_url(changed), {"fingerprint": PRESENTED})
    assert answer.status_code == 302
    assert answer["Location"] == reverse(
        "devices:device-detail", args=[changed.organization_id, changed.pk]
    )
    changed.refresh_from_db()
    assert changed.certificate_fingerprint == PRESENTED


def test_the_page_refuses_a_stale_fingerprint_with_a_message(client, tenant, changed):
    client.force_login(tenant.admin.user)
    answer = client.post(page_url(changed), {"fingerprint": "33" * 32})
    assert answer.status_code == 409
    assert "no longer presents this certificate" in answer.content.decode()
    changed.refresh_from_db()
    assert changed.certificate_fingerprint == PINNED


def test_the_device_pages_offer_the_review_to_admins_only(tenant, changed):
    request = RequestFactory().get("/")
    for member, offered in [(tenant.admin, True), (tenant.owner, True), (tenant.viewer, False)]:
        request.user, request.membership = member.user, member
        html = render_to_string(
            "devices/partials/certificate_action.html",
            {"device": changed, "current_organization": tenant.organization},
            request=request,
        )
        assert (page_url(changed) in html) is offered
        assert ("administrator must accept" in html) is not offered


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_get_403_on_the_page(client, tenant, changed, role):
    client.force_login(getattr(tenant, role).user)
    assert client.get(page_url(changed)).status_code == 403
    assert client.post(page_url(changed), {"fingerprint": PRESENTED}).status_code == 403
    changed.refresh_from_db()
    assert changed.certificate_fingerprint == PINNED


def test_another_organizations_member_gets_404_on_the_page(client, other_tenant, changed):
    client.force_login(other_tenant.owner.user)
    assert client.get(page_url(changed)).status_code == 404


# --- API ------------------------------------------------------------------------------------


def test_an_admin_accepts_through_the_api(api, tenant, changed):
    answer = api.use_token_of(tenant.admin).post(api_url(changed), {"fingerprint": PRESENTED})
    assert answer.status_code == 200
    assert answer.json() == {
        "id": str(changed.pk),
        "status": "unknown",
        "certificate_fingerprint": PRESENTED,
        "presented_fingerprint": "",
    }


def test_the_api_answers_a_stale_fingerprint_with_409_and_the_stable_body(api, tenant, changed):
    answer = api.login(tenant.admin).post(api_url(changed), {"fingerprint": "33" * 32})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "certificate_not_presented"


def test_the_api_answers_a_missing_fingerprint_with_400(api, tenant, changed):
    assert api.login(tenant.admin).post(api_url(changed), {}).status_code == 400


@pytest.mark.parametrize(("role", "status"), [("operator", 403), ("viewer", 403)])
def test_operators_and_viewers_get_403_from_the_api(api, tenant, changed, role, status):
    answer = api.login(getattr(tenant, role)).post(api_url(changed), {"fingerprint": PRESENTED})
    assert answer.status_code == status
    changed.refresh_from_db()
    assert changed.certificate_fingerprint == PINNED


def test_a_viewer_without_the_folder_and_other_tenants_get_404_from_the_api(
    api, tenant, other_tenant
):
    hidden = DeviceFactory(
        folder=tenant.site_b, presented_fingerprint=PRESENTED, status="certificate_changed"
    )
    assert (
        api.login(tenant.viewer).post(api_url(hidden), {"fingerprint": PRESENTED}).status_code
        == 404
    )
    assert (
        api.login(other_tenant.owner).post(api_url(hidden), {"fingerprint": PRESENTED}).status_code
        == 404
    )
