"""Staff admin for licensing: ledger and keys read-only; keys issued once, shown once."""

import re

import pytest
from django.contrib import admin as django_admin
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from licensing import keys
from licensing.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LicenseKey,
    ProductRegistration,
)
from tests.accounts.factories import UserFactory
from tests.licensing.factories import ProductFactory


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.parametrize(
    "model", [LedgerAccount, LedgerEntry, LedgerTransaction, LicenseKey, ProductRegistration]
)
def test_the_ledger_and_keys_are_read_only_in_the_admin(model, superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = django_admin.site._registry.get(model)
    if model is LedgerEntry:  # shown inside its transaction only
        assert model_admin is None
        return
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_staff_issue_keys_in_the_admin_and_see_them_once(superuser):
    product = ProductFactory()
    model_admin = django_admin.site._registry[LicenseKey]
    request = RequestFactory().post(
        "/admin/licensing/licensekey/issue/",
        {"product": product.pk, "kind": "subscription", "quantity": 5, "count": 3, "term_years": 1},
    )
    request.user = superuser
    request.user.is_verified = lambda: True  # django-otp's middleware: a second factor passed
    response = model_admin.issue_keys_view(request)
    response.render()
    shown = re.findall(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}", response.content.decode())
    assert len(shown) == 3
    stored = LicenseKey.objects.filter(product=product, issued_by=superuser.email)
    assert stored.count() == 3
    assert {row.key_hash for row in stored} == {
        keys.key_hash(keys.normalize(text)) for text in shown
    }


def test_staff_without_the_add_permission_cannot_issue_keys(db):
    request = RequestFactory().get("/admin/licensing/licensekey/issue/")
    request.user = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        django_admin.site._registry[LicenseKey].issue_keys_view(request)
