"""The account pages keep the organization the person last worked in."""

import pytest
from django.urls import reverse

from organizations import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "page", ["accounts:security", "accounts:profile", "accounts:password-change"]
)
def test_account_pages_keep_the_last_organization_in_the_navigation(
    client, admin, organization, page
):
    client.force_login(admin.user)
    client.get(reverse("organizations:folder-list", args=[organization.pk]))
    html = client.get(reverse(page)).content.decode()
    assert reverse("organizations:member-list", args=[organization.pk]) in html
    assert f"Organization menu: {organization.name}" in html


def test_account_pages_forget_an_organization_the_person_left(client, owner, admin, organization):
    client.force_login(admin.user)
    client.get(reverse("organizations:folder-list", args=[organization.pk]))
    services.remove_members(actor=owner, member_ids=[admin.pk])
    html = client.get(reverse("accounts:security")).content.decode()
    assert reverse("organizations:member-list", args=[organization.pk]) not in html
    assert f"Organization menu: {organization.name}" not in html


def test_account_pages_without_an_organization_visited_show_none(client, admin, organization):
    client.force_login(admin.user)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert reverse("organizations:member-list", args=[organization.pk]) not in html
