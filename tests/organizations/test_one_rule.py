"""One rule for names; a folder that cannot be deleted says so where Delete is offered."""

import html

import pytest
from django.urls import reverse

from organizations import services
from organizations.models import Folder
from tests.organizations.test_folders import folder_things  # noqa: F401 -- fixture

pytestmark = pytest.mark.django_db


def test_an_organization_named_with_a_slash_keeps_a_top_folder_that_saves_again(user):
    organization = services.create_organization(
        user=user, name="Nordic A/S", folder_names=["Site 1/2"]
    )
    owner = organization.memberships.get()
    top = Folder.objects.get(organization=organization, parent=None)
    services.rename_folder(actor=owner, folder_id=top.pk, name="Nordic A/S", time_zone="Asia/Tokyo")
    assert Folder.objects.get(pk=top.pk).time_zone == "Asia/Tokyo"
    assert Folder.objects.filter(name="Site 1/2", parent=top).exists()


def test_the_folder_form_saves_a_name_with_a_slash(client, admin, folders):
    client.force_login(admin.user)
    url = reverse("organizations:folder-rename", args=[folders.organization.pk, folders.site_b.pk])
    response = client.post(url, {"name": "Building 4/5", "time_zone": ""})
    assert response.status_code == 302
    assert Folder.objects.get(pk=folders.site_b.pk).name == "Building 4/5"


def _tree(client, organization):
    response = client.get(reverse("organizations:folder-list", args=[organization.pk]))
    return html.unescape(response.content.decode())


def test_the_tree_menu_disables_delete_of_a_folder_with_subfolders(client, admin, folders):
    client.force_login(admin.user)
    html = _tree(client, folders.organization)
    assert f"{folders.site_a.pk}/delete/" not in html
    assert "“Site A” has subfolders. Move or delete them first." in html
    assert f"{folders.site_b.pk}/delete/" in html


def test_the_tree_menu_disables_delete_of_a_folder_holding_devices(
    client,
    admin,
    folders,
    folder_things,  # noqa: F811
):
    folder_things.objects.create(folder=folders.site_b)
    client.force_login(admin.user)
    html = _tree(client, folders.organization)
    assert f"{folders.site_b.pk}/delete/" not in html
    assert "“Site B” still holds devices. Move or remove them first." in html
    assert f"{folders.room_a1x.pk}/delete/" in html


def test_the_folder_page_disables_delete_with_the_reason(
    client,
    admin,
    folders,
    folder_things,  # noqa: F811
):
    client.force_login(admin.user)
    url = reverse("organizations:folder-detail", args=[folders.organization.pk, folders.site_a.pk])
    html = client.get(url).content.decode()
    assert f"{folders.site_a.pk}/delete/" not in html
    assert "“Site A” has subfolders. Move or delete them first." in html
    folder_things.objects.create(folder=folders.room_a1x)
    url = reverse(
        "organizations:folder-detail", args=[folders.organization.pk, folders.room_a1x.pk]
    )
    html = client.get(url).content.decode()
    assert f"{folders.room_a1x.pk}/delete/" not in html
    assert "still holds devices" in html
    url = reverse("organizations:folder-detail", args=[folders.organization.pk, folders.site_b.pk])
    assert f"{folders.site_b.pk}/delete/" in client.get(url).content.decode()
