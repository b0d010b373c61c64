"""Sign-in codes by e-mail leave the request like every other mail: from Celery, in their words."""

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_email.models import EmailDevice

from tests import mail as moody_mail
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _half_signed_in(client, **user_fields):
    user = UserFactory(**user_fields)
    EmailDevice.objects.create(user=user, name="mail", confirmed=True)
    client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    return user


def test_a_sign_in_code_to_a_refused_address_answers_the_page_not_a_server_error(client, settings):
    settings.EMAIL_BACKEND = moody_mail.BACKEND
    _half_signed_in(client, email="refused-code@example.com")

    response = client.post(reverse("accounts:sign-in-email-code"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:sign-in-mfa")


def test_a_sign_in_code_mail_speaks_the_language_of_the_account(client):
    _half_signed_in(client, language="ja")

    client.post(reverse("accounts:sign-in-email-code"))

    message = mail.outbox[-1]
    assert "サインイン" in message.subject
    assert "サインイン" in message.body
    assert any(word.isdigit() and len(word) == 6 for word in message.body.split())
