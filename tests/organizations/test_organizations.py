"""Creating, changing, archiving and restoring organizations (services and the restore command)."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command

from common.errors import Forbidden, Invalid, NotFound
from organizations import selectors, services
from organizations.models import AuditEvent, Folder, Membership, Organization
from organizations.roles import Role


def test_creator_becomes_owner_of_a_new_organization(user):
    organization = services.create_organization(user=user, name="  Harbour Works ", notes="HQ")
    membership = Membership.objects.get(organization=organization, user=user)
    assert membership.role == Role.OWNER
    assert organization.name == "Harbour Works"
    assert organization.created_by == user


def test_new_organization_starts_with_a_top_folder_named_after_it(user):
    organization = services.create_organization(user=user, name="Harbour Works")
    top = Folder.objects.get(organization=organization)
    assert top.parent is None
    assert top.name == "Harbour Works"
    assert top.path == f"{top.pk}/"


def test_first_folders_are_created_under_the_top_folder(user):
    organization = services.create_organization(
        user=user, name="Harbour Works", folder_names=["North pier", "South pier", " "]
    )
    top = Folder.objects.get(organization=organization, parent=None)
    children = Folder.objects.filter(parent=top).order_by("name")
    assert [f.name for f in children] == ["North pier", "South pier"]
    assert all(f.path.startswith(top.path) and f.depth == 1 for f in children)


def test_organization_without_a_name_is_refused(user):
    with pytest.raises(Invalid) as refused:
        services.create_organization(user=user, name="   ")
    assert refused.value.code == "name_required"


def test_admin_renames_the_organization(admin):
    organization = services.update_organization(actor=admin, name="Acme 2", notes="New")
    organization.refresh_from_db()
    assert (organization.name, organization.notes) == ("Acme 2", "New")


def test_viewer_cannot_rename_the_organization(viewer):
    with pytest.raises(Forbidden):
        services.update_organization(actor=viewer, name="Mine now", notes="")


def test_only_an_owner_allows_elevated_invitations(admin, owner, organization):
    with pytest.raises(Forbidden) as refused:
        services.update_security_settings(
            actor=admin, allow_elevated_invitations=True, requires_mfa=False
        )
    assert refused.value.code == "owner_only_policy"
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=True, requires_mfa=False
    )
    organization.refresh_from_db()
    assert organization.allow_elevated_invitations


def test_admin_may_require_mfa(admin, organization):
    services.update_security_settings(
        actor=admin, allow_elevated_invitations=False, requires_mfa=True
    )
    organization.refresh_from_db()
    assert organization.requires_mfa


def test_archiving_needs_the_exact_organization_id(owner):
    with pytest.raises(Invalid) as refused:
        services.archive_organization(
            actor=owner, confirmation_id=str(uuid.uuid4()), understood=True
        )
    assert refused.value.code == "confirmation_mismatch"
    assert "confirmation_id" in refused.value.fields


def test_archiving_needs_the_risk_box(owner, organization):
    with pytest.raises(Invalid) as refused:
        services.archive_organization(
            actor=owner, confirmation_id=str(organization.pk), understood=False
        )
    assert refused.value.code == "risk_not_acknowledged"


def test_admin_cannot_archive(admin, organization):
    with pytest.raises(Forbidden):
        services.archive_organization(
            actor=admin, confirmation_id=str(organization.pk), understood=True
        )


def test_archived_organization_disappears_for_its_members(owner, viewer, organization):
    services.archive_organization(
        actor=owner, confirmation_id=f" {organization.pk} ", understood=True
    )
    assert organization not in selectors.member_organizations(viewer.user)
    with pytest.raises(NotFound):
        selectors.get_membership(viewer.user, organization.pk)
    assert Membership.objects.filter(organization=organization).count() == 4  # nothing deleted


@pytest.fixture
def archived(owner, organization):
    services.archive_organization(
        actor=owner, confirmation_id=str(organization.pk), understood=True
    )
    return organization


def test_restore_dry_run_shows_what_comes_back_and_changes_nothing(archived):
    out = io.StringIO()
    call_command("restore_organization", str(archived.pk), "--dry-run", stdout=out)
    archived.refresh_from_db()
    assert archived.is_archived
    assert "Members: 4 (owners: 1)" in out.getvalue()
    assert "Folders: 5" in out.getvalue()
    assert "Dry run: nothing changed." in out.getvalue()


def test_restore_with_yes_brings_the_organization_back_and_audits_the_reason(archived, viewer):
    out = io.StringIO()
    call_command(
        "restore_organization", str(archived.pk), "--yes", "--reason", "ticket 42", stdout=out
    )
    assert selectors.get_membership(viewer.user, archived.pk).organization == archived
    event = AuditEvent.objects.filter(organization=archived).order_by("-sequence").first()
    assert (event.action, event.actor_label, event.data["reason"]) == (
        "organization.restore",
        "support",
        "ticket 42",
    )
    assert "Restored" in out.getvalue()


def test_restore_asks_for_confirmation_and_accepts_yes_on_stdin(archived):
    call_command(
        "restore_organization",
        str(archived.pk),
        "--reason",
        "ticket 42",
        stdin=io.StringIO("y\n"),
        stdout=io.StringIO(),
    )
    archived.refresh_from_db()
    assert not archived.is_archived


def test_restore_without_stdin_refuses_cleanly(archived):
    with pytest.raises(CommandError, match="nothing changed"):
        call_command(
            "restore_organization",
            str(archived.pk),
            "--reason",
            "ticket 42",
            stdin=io.StringIO(""),
            stdout=io.StringIO(),
        )
    archived.refresh_from_db()
    assert archived.is_archived


def test_restore_without_a_reason_and_no_stdin_refuses(archived):
    with pytest.raises(CommandError, match="reason is required"):
        call_command(
            "restore_organization",
            str(archived.pk),
            "--yes",
            stdin=io.StringIO(""),
            stdout=io.StringIO(),
        )


def test_restore_of_an_unknown_id_is_a_clear_error(db):
    unknown = uuid.uuid4()
    with pytest.raises(CommandError, match=f"No organization has the ID {unknown}"):
        call_command("restore_organization", str(unknown), "--yes", "--reason", "x")


def test_restore_of_something_that_is_not_an_id_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No organization has the ID not-a-uuid"):
        call_command("restore_organization", "not-a-uuid", "--yes", "--reason", "x")


def test_restore_of_an_active_organization_changes_nothing(organization):
    head = organization.audit_head_sequence
    with pytest.raises(CommandError, match="is not archived"):
        call_command("restore_organization", str(organization.pk), "--yes", "--reason", "x")
    organization.refresh_from_db()
    assert organization.audit_head_sequence == head


def test_more_first_folders_than_the_limit_are_refused_by_the_service_itself(user):
    names = [f"Site {n}" for n in range(services.MAX_FIRST_FOLDERS + 1)]
    with pytest.raises(Invalid) as refused:
        services.create_organization(user=user, name="Too Big", folder_names=names)
    assert refused.value.code == "too_many_folders"
    assert not Organization.objects.filter(name="Too Big").exists()
