import pytest
from django.core import mail

from accounts import services
from accounts.models import SecurityEvent, User
from common.errors import Conflict

pytestmark = pytest.mark.django_db


def test_sign_up_with_a_proven_address_is_verified_and_sends_no_link(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.sign_up(
            email="Invited@Example.com", password="long-enough-pass-42", is_email_verified=True
        )
    assert user.email == "invited@example.com"
    assert user.is_email_verified
    assert mail.outbox == []
    assert SecurityEvent.objects.get(user=user).data == {"email_verified": True}


def test_sign_up_refuses_a_taken_address_in_any_case(user):
    with pytest.raises(Conflict):
        services.sign_up(email=user.email.upper(), password="long-enough-pass-42")
    assert User.objects.count() == 1


def test_verification_link_is_idempotent(user):
    user.email_verified_at = None
    user.save()
    token = services.make_verification_token(user)
    first = services.verify_email(token=token).email_verified_at
    assert services.verify_email(token=token).email_verified_at == first
    assert SecurityEvent.objects.filter(action=SecurityEvent.Action.EMAIL_VERIFIED).count() == 1


def test_the_sign_up_form_refuses_a_taken_address_with_the_services_message(user):
    from accounts.forms import SignUpForm

    with pytest.raises(Conflict) as refused:
        services.check_email_free(email=f" {user.email.upper()} ")
    form = SignUpForm({"email": user.email.upper(), "password": "long-enough-pass-42"})
    assert not form.is_valid()
    assert form.errors["email"] == [str(refused.value.message)]
