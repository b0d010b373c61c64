"""Every app's forms share common/forms.py: Bootstrap widgets, stated limits, marked errors."""

import inspect

import pytest
from django import forms
from django.urls import reverse

import accounts.forms
import organizations.forms
from common.forms import BootstrapFieldsMixin

FORM_MODULES = [accounts.forms, organizations.forms]


def _form_classes():
    for module in FORM_MODULES:
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                yield pytest.param(value, id=f"{module.__name__}.{name}")


@pytest.mark.parametrize("form_class", list(_form_classes()))
def test_every_form_of_the_apps_uses_the_shared_base(form_class):
    assert issubclass(form_class, BootstrapFieldsMixin)


@pytest.mark.django_db
def test_a_refused_field_is_marked_invalid_for_people_and_screen_readers(client):
    response = client.post(
        reverse("accounts:sign-up"),
        {"name": "Ada", "email": "not-an-address", "password": "correct horse battery"},
    )
    assert response.status_code in (200, 400)
    page = response.content.decode()
    email_input = next(tag for tag in page.split("<input") if 'name="email"' in tag)
    assert "is-invalid" in email_input
    assert 'aria-invalid="true"' in email_input
    name_input = next(tag for tag in page.split("<input") if 'name="name"' in tag)
    assert "is-invalid" not in name_input
    assert "maxlength=" in name_input
