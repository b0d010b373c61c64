"""Names a person types hold no control or format characters, on every door; support commands
show stored names with such characters escaped."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from common.errors import Invalid
from organizations import services
from organizations.models import ApiToken, Folder, Organization

pytestmark = pytest.mark.django_db

# A line break (header injection), ESC and an OSC title sequence (terminal), a right-to-left
# override and a zero-width space (format characters that hide or reorder text), a tab.
HOSTILE_NAMES = [
    "Acme\r\nBcc: everyone@example.com",
    "Acme\x1b]0;owned\x07",
    "Acme\x1b[2J",
    "Acme \u202egnp.exe",
    "Ac\u200bme",
    "Acme\tLtd",
    "Acme\u2028Ltd",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_an_organization_name_with_control_characters_is_refused(user, name):
    with pytest.raises(Invalid) as refused:
        services.create_organization(user=user, name=name)
    assert refused.value.code == "name_control_characters"
    assert "name" in refused.value.fields
    assert not Organization.objects.exists()


def test_ordinary_spaces_and_other_scripts_are_names(user):
    organization = services.create_organization(user=user, name="Nordic Vision  Tōkyō 東京 支社")
    assert organization.name == "Nordic Vision  Tōkyō 東京 支社"


def test_a_first_folder_name_with_control_characters_is_refused(user):
    with pytest.raises(Invalid) as refused:
        services.create_organization(user=user, name="Acme", folder_names=["North\x1b[31m"])
    assert refused.value.code == "name_control_characters"
    assert "folder_names" in refused.value.fields
    assert not Organization.objects.exists()


def test_renaming_with_control_characters_is_refused(owner, folders):
    with pytest.raises(Invalid) as refused:
        services.update_organization(actor=owner, name="Acme\nLtd", notes="")
    assert refused.value.code == "name_control_characters"
    with pytest.raises(Invalid):
        services.rename_folder(actor=owner, folder_id=folders.site_a.pk, name="Site\u202eA")
    with pytest.raises(Invalid):
        services.create_folder(actor=owner, parent_id=folders.top.pk, name="\x1b]0;x\x07")
    assert Organization.objects.get(pk=owner.organization_id).name == "Acme Security"
    assert Folder.objects.get(pk=folders.site_a.pk).name == "Site A"


def test_an_api_token_name_with_control_characters_is_refused(viewer):
    with pytest.raises(Invalid) as refused:
        services.create_api_token(
            actor=viewer,
            name="ci\x1b[8m",
            expires_on=timezone.localdate() + timedelta(days=30),
        )
    assert refused.value.code == "name_control_characters"
    assert not ApiToken.objects.exists()


def test_the_setup_page_refuses_a_name_with_a_line_break(client, user):
    client.force_login(user)
    response = client.post(
        reverse("organizations:organization-create"),
        {"name": "Acme\r\nBcc: everyone@example.com"},
    )
    assert response.status_code == 400
    assert "line breaks" in response.content.decode()
    assert not Organization.objects.exists()


def test_the_folder_page_refuses_a_name_with_an_escape_sequence(client, owner, folders):
    client.force_login(owner.user)
    response = client.post(
        reverse("organizations:folder-rename", args=[owner.organization_id, folders.site_a.pk]),
        {"name": "Site A\x1b]0;owned\x07", "time_zone": ""},
    )
    assert response.status_code == 400
    assert "control" in response.content.decode()
    assert Folder.objects.get(pk=folders.site_a.pk).name == "Site A"


def test_the_api_refuses_a_name_with_control_characters_with_a_stable_error(client, owner):
    client.force_login(owner.user)
    response = client.patch(
        reverse("api:organization-detail", args=[owner.organization_id]),
        {"name": "Acme\u202eLtd"},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "name_control_characters"
    assert error["fields"]["name"]
    response = client.post(
        reverse("api:token-list", args=[owner.organization_id]),
        {"name": "ci\nbot", "expires_on": str(timezone.localdate() + timedelta(days=9))},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "name_control_characters"


# Names stored before the rule, or written behind the services' back.
STORED_HOSTILE_NAME = "Evil\x1b]0;owned\x07\x1b[2J\u202eCorp\nNext"


def test_restore_organization_prints_names_with_control_characters_escaped(owner):
    services.archive_organization(
        actor=owner, confirmation_id=str(owner.organization_id), understood=True
    )
    Organization.objects.filter(pk=owner.organization_id).update(name=STORED_HOSTILE_NAME)
    out = io.StringIO()
    call_command(
        "restore_organization", str(owner.organization_id), "--yes", "--reason", "t-1", stdout=out
    )
    printed = out.getvalue()
    assert "\x1b" not in printed
    assert "\x07" not in printed
    assert "\u202e" not in printed
    assert "Evil\\x1b]0;owned\\x07\\x1b[2J\\u202eCorp\\nNext" in printed


def test_verify_audit_chain_prints_names_with_control_characters_escaped(owner):
    Organization.objects.filter(pk=owner.organization_id).update(name=STORED_HOSTILE_NAME)
    out = io.StringIO()
    call_command("verify_audit_chain", str(owner.organization_id), stdout=out)
    printed = out.getvalue()
    assert "\x1b" not in printed
    assert "\u202e" not in printed
    assert "Evil\\x1b]0;owned\\x07" in printed
