"""Invitation e-mails leave from a worker, one task per message with retries; a mail that
finally fails shows on the pending invitation, which an admin can send again with a new link."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from common.errors import Conflict, Forbidden, NotFound
from config.celery import app as celery_app
from organizations import selectors, services
from organizations.models import AuditEvent, Invitation, Organization
from organizations.roles import Role
from tests import mail as test_mail
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _retries_run_in_place():
    # With eager propagation Celery hands the retry (a Retry exception) to the caller instead
    # of running it; without it, `apply` runs each retry in place, as a worker would later.
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def moody_mail_server(settings):
    settings.EMAIL_BACKEND = test_mail.BACKEND
    test_mail.MoodyBackend.attempts.clear()
    return test_mail.MoodyBackend


def _invite(actor, emails, folders, run_callbacks):
    with run_callbacks(execute=True):
        return services.invite_members(
            actor=actor, emails=emails, role=Role.VIEWER, folder_ids=[folders.site_a.pk]
        )


def _token_in(message) -> str:
    line = next(line for line in message.body.splitlines() if "/invitations/" in line)
    return line.rstrip("/").rsplit("/", 1)[1]


def _state(email):
    return Invitation.objects.get(email=email)


def test_a_refused_address_leaves_the_page_working_and_the_others_mailed(
    client, admin, organization, folders, django_capture_on_commit_callbacks
):
    client.force_login(admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("organizations:invitation-create", args=[organization.pk]),
            {
                "emails": "ann@example.com, refused@example.com, bob@example.com",
                "role": Role.VIEWER,
                "folders": [str(folders.site_a.pk)],
            },
        )
    assert response.status_code == 302
    # The admin lands on the Users page once the workers are done.
    page = client.get(response.url).content.decode()
    assert "e-mails are on their way" in page
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ann@example.com",
        "bob@example.com",
    ]
    refused = _state("refused@example.com")
    assert refused.state == Invitation.State.PENDING
    assert refused.email_status == Invitation.EmailStatus.FAILED
    assert "550 5.1.1 User unknown" in refused.email_error
    sent = _state("ann@example.com")
    assert sent.email_status == Invitation.EmailStatus.SENT
    assert sent.email_sent_at is not None
    # The page the admin lands on shows the failure and offers Resend for that invitation.
    assert "Not delivered" in page
    assert reverse("organizations:invitation-resend", args=[organization.pk, refused.pk]) in page
    # A permanent refusal is not tried again.
    assert test_mail.MoodyBackend.attempts["refused@example.com"] == 1


def test_a_dropped_connection_is_retried_until_the_mail_leaves(
    admin, folders, django_capture_on_commit_callbacks
):
    _invite(admin, ["flaky@example.com"], folders, django_capture_on_commit_callbacks)
    assert test_mail.MoodyBackend.attempts["flaky@example.com"] == 3
    assert [message.to for message in mail.outbox] == [["flaky@example.com"]]
    assert _state("flaky@example.com").email_status == Invitation.EmailStatus.SENT


def test_a_server_that_stays_down_marks_the_mail_failed_after_the_last_retry(
    admin, folders, django_capture_on_commit_callbacks
):
    _invite(admin, ["down@example.com"], folders, django_capture_on_commit_callbacks)
    assert test_mail.MoodyBackend.attempts["down@example.com"] == 6  # the first try and 5 retries
    invitation = _state("down@example.com")
    assert invitation.email_status == Invitation.EmailStatus.FAILED
    assert "Connection unexpectedly closed" in invitation.email_error


def test_a_mail_queued_before_a_revocation_is_not_sent(
    admin, folders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        [invitation] = services.invite_members(
            actor=admin, emails=["late@example.com"], folder_ids=[folders.site_a.pk], role="viewer"
        )
    services.revoke_invitation(actor=admin, invitation_id=invitation.pk)
    for callback in callbacks:
        callback()
    assert mail.outbox == []


def test_resend_mails_a_new_link_and_the_old_one_dies(
    admin, owner, folders, django_capture_on_commit_callbacks
):
    [invitation] = _invite(admin, ["ann@example.com"], folders, django_capture_on_commit_callbacks)
    old_token = _token_in(mail.outbox[0])
    later = timezone.now() + timedelta(days=2)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        services.resend_invitation(actor=owner, invitation_id=invitation.pk)
    new_token = _token_in(mail.outbox[1])
    assert new_token != old_token
    with pytest.raises(NotFound):
        selectors.get_pending_invitation_by_token(old_token)
    invitation.refresh_from_db()
    assert invitation.email_status == Invitation.EmailStatus.SENT
    assert invitation.expires_at > later + timedelta(days=6)
    assert invitation.invited_by == owner.user
    event = AuditEvent.objects.filter(action="invitation.resend").get()
    assert (event.actor_user, event.data["email"]) == (owner.user, "ann@example.com")
    person = UserFactory(email="ann@example.com")
    with time_machine.travel(later):
        assert services.accept_invitation(user=person, raw_token=new_token)


def test_resend_within_a_minute_is_refused(admin, folders, django_capture_on_commit_callbacks):
    [invitation] = _invite(admin, ["ann@example.com"], folders, django_capture_on_commit_callbacks)
    with pytest.raises(Conflict) as refused:
        services.resend_invitation(actor=admin, invitation_id=invitation.pk)
    assert refused.value.code == "resend_too_soon"
    assert len(mail.outbox) == 1


def test_resend_rechecks_the_invitation_policy(owner, organization, folders):
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=True, requires_mfa=False
    )
    owner.organization.refresh_from_db()
    [invitation] = services.invite_members(
        actor=owner, emails=["op@example.com"], role=Role.OPERATOR, folder_ids=[folders.site_a.pk]
    )
    # Written behind the services' back, so no sweep revoked the invitation.
    Organization.objects.filter(pk=organization.pk).update(allow_elevated_invitations=False)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)), pytest.raises(Forbidden):
        services.resend_invitation(actor=owner, invitation_id=invitation.pk)


def test_resend_on_the_users_page_swaps_the_row(
    client, admin, organization, folders, django_capture_on_commit_callbacks
):
    [invitation] = _invite(
        admin, ["refused@example.com"], folders, django_capture_on_commit_callbacks
    )
    client.force_login(admin.user)
    url = reverse("organizations:invitation-resend", args=[organization.pk, invitation.pk])
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "On its way" in response.content.decode()
    assert _state("refused@example.com").email_status == Invitation.EmailStatus.QUEUED


def test_viewer_cannot_resend(client, viewer, organization, folders):
    invitation = Invitation.objects.create(
        organization=organization,
        email="x@example.com",
        token_hash="0" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )
    client.force_login(viewer.user)
    url = reverse("organizations:invitation-resend", args=[organization.pk, invitation.pk])
    assert client.post(url).status_code == 403


def test_resend_through_the_api(
    client, admin, organization, folders, django_capture_on_commit_callbacks
):
    [invitation] = _invite(
        admin, ["refused@example.com"], folders, django_capture_on_commit_callbacks
    )
    client.force_login(admin.user)
    listing = client.get(reverse("api:invitation-list", args=[organization.pk])).json()
    [item] = listing["results"]
    assert item["email_status"] == "failed"
    assert "550" in item["email_error"]
    url = reverse("api:invitation-resend", args=[organization.pk, invitation.pk])
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        response = client.post(url)
    assert response.status_code == 200
    assert response.json()["email_status"] == "queued"
    response = client.post(url)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "resend_too_soon"
