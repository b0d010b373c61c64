"""Staff editing people in the admin meet the same name rule as the pages and the API."""

import pytest
from django.contrib import admin as django_admin
from django.test import RequestFactory

from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["Eve\nBcc: victim@example.com", "Mallory\x1b]0;owned\x07"])
def test_a_name_with_control_characters_is_refused_in_the_admin(name):
    person = UserFactory(name="Alice Example")
    request = RequestFactory().post("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    model_admin = django_admin.site._registry[User]
    form_class = model_admin.get_form(request, person, change=True)
    data = {
        "email": person.email,
        "name": name,
        "language": person.language,
        "time_zone": person.time_zone,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    form = form_class(data, instance=person)
    assert not form.is_valid()
    assert "control" in " ".join(form.errors["name"])
    person.refresh_from_db()
    assert person.name == "Alice Example"
