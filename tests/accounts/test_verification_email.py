"""The verification e-mail leaves from a worker: a refused address never fails the sign-up."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests import mail as test_mail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def moody_mail_server(settings):
    settings.EMAIL_BACKEND = test_mail.BACKEND
    test_mail.MoodyBackend.attempts.clear()


def _sign_up(client, email):
    return client.post(
        reverse("accounts:sign-up"),
        {"name": "Ann", "email": email, "password": "a-long-new-password-7"},
    )


def test_a_refused_address_still_signs_up_and_is_not_tried_again(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _sign_up(client, "refused@example.com")
    assert response.status_code == 302
    assert response.url == reverse("accounts:verify-pending")
    assert User.objects.filter(email="refused@example.com").exists()
    assert len(callbacks) == 1
    assert test_mail.MoodyBackend.attempts["refused@example.com"] == 1
    assert mail.outbox == []


def test_the_verification_link_is_mailed_by_the_task_after_commit(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _sign_up(client, "ann@example.com")
        assert mail.outbox == []
    assert len(callbacks) == 1
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert "http://testserver/accounts/verify/" in message.body
