"""Staff admin for tenants: read-only, searchable by organization ID and name."""

import pytest
from django.contrib import admin as django_admin
from django.test import RequestFactory

from organizations.models import AuditEvent, Invitation, Membership, Organization
from tests.accounts.factories import UserFactory


@pytest.fixture
def staff_request(db):
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return request


@pytest.mark.parametrize("model", [Organization, Membership, Invitation, AuditEvent])
def test_tenant_admins_are_read_only(model, staff_request):
    model_admin = django_admin.site._registry[model]
    assert not model_admin.has_add_permission(staff_request)
    assert not model_admin.has_change_permission(staff_request)
    assert not model_admin.has_delete_permission(staff_request)
    assert model_admin.has_view_permission(staff_request)


def _search(term, staff_request):
    model_admin = django_admin.site._registry[Organization]
    found, _duplicates = model_admin.get_search_results(
        staff_request, Organization.objects.all(), term
    )
    return set(found)


def test_organizations_are_found_by_id_and_by_name(organization, other_organization, staff_request):
    assert _search(str(organization.pk), staff_request) == {organization}
    assert _search("acme", staff_request) == {organization}


def test_organizations_filter_by_archived(organization, other_organization, staff_request):
    other_organization.archived_at = other_organization.created_at
    other_organization.save()
    model_admin = django_admin.site._registry[Organization]
    request = RequestFactory().get("/admin/", {"archived": "yes"})
    request.user = staff_request.user
    changelist = model_admin.get_changelist_instance(request)
    assert set(changelist.get_queryset(request)) == {other_organization}


@pytest.mark.parametrize("model", [Membership, Invitation, AuditEvent])
@pytest.mark.parametrize("term", ["acme", "not-a-uuid", "person"])
def test_tenant_admin_searches_take_any_text(model, term, organization, staff_request):
    model_admin = django_admin.site._registry[model]
    found, _duplicates = model_admin.get_search_results(staff_request, model.objects.all(), term)
    list(found)  # evaluated: a text that is not a UUID must not break the "=id" lookup
