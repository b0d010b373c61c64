"""Activity: what each event changed, the list of event types, the CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from organizations import audit, services
from organizations.audit_changes import FolderNames, describe_changes
from organizations.models import AuditEvent

pytestmark = pytest.mark.django_db


def _url(name, organization):
    return reverse(f"organizations:{name}", args=[organization.pk])


def _latest(organization):
    return AuditEvent.objects.filter(organization=organization).order_by("-sequence").first()


def _page(client, organization, **query):
    response = client.get(_url("audit-event-list", organization), query)
    assert response.status_code == 200
    return response.content.decode()


def test_turning_on_mfa_stores_and_shows_before_and_after(client, owner, organization):
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=False, requires_mfa=True
    )
    assert _latest(organization).data == {"requires_mfa": {"from": False, "to": True}}
    # Off again, so that the owner without a second factor may read the page.
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=True, requires_mfa=False
    )
    client.force_login(owner.user)
    html = _page(client, organization, action="organization.security_update")
    assert 'Require MFA: <del class="text-muted">off</del> → <span>on</span>' in html
    assert 'Require MFA: <del class="text-muted">on</del> → <span>off</span>' in html
    assert (
        'Operator and admin invitations: <del class="text-muted">off</del> → <span>on</span>'
        in html
    )


def test_a_rename_and_new_notes_show_before_and_after(client, owner, organization):
    old_name = organization.name
    services.update_organization(actor=owner, name="Acme Cameras", notes="Call Ann first")
    assert _latest(organization).data["notes"] == {"from": "", "to": "Call Ann first"}
    client.force_login(owner.user)
    html = _page(client, organization)
    assert f'Name: <del class="text-muted">{old_name}</del> → <span>Acme Cameras</span>' in html
    assert 'Notes: <del class="text-muted">—</del> → <span>Call Ann first</span>' in html


def test_a_role_and_folder_change_names_the_folders(client, owner, organization, folders, viewer):
    services.change_member(
        actor=owner,
        member_id=viewer.pk,
        role="operator",
        folder_ids=[folders.site_b.pk],
    )
    data = _latest(organization).data
    assert data["folder_names"] == {
        str(folders.site_b.pk): "Site B",
        str(folders.building_a1.pk): "Building A1",
    }
    client.force_login(owner.user)
    html = _page(client, organization, action="member.change")
    assert 'Role: <del class="text-muted">Viewer</del> → <span>Operator</span>' in html
    assert "Folders granted: <span>Site B</span>" in html
    assert "Folders revoked: <span>Building A1</span>" in html
    assert str(folders.site_b.pk) not in html


def test_a_moved_folder_shows_where_from_and_where_to(client, admin, organization, folders):
    services.move_folder(
        actor=admin, folder_id=folders.room_a1x.pk, new_parent_id=folders.site_b.pk
    )
    client.force_login(admin.user)
    html = _page(client, organization, action="folder.move")
    assert 'Parent folder: <del class="text-muted">Building A1</del> → <span>Site B</span>' in html


def test_events_stored_before_the_change_values_still_read(client, owner, organization):
    with audit.request_context():
        audit.record(owner, organization, "organization.update", organization, {"notes": True})
        audit.record(
            owner,
            organization,
            "organization.security_update",
            organization,
            {"requires_mfa": True},
        )
    client.force_login(owner.user)
    html = _page(client, organization)
    assert "Notes: <span>changed</span>" in html
    assert "Require MFA: <span>on</span>" in html


def test_the_what_filter_is_a_list_of_event_types_in_words(client, admin, organization, folders):
    services.create_folder(actor=admin, parent_id=folders.top.pk, name="Yard")
    services.rename_folder(actor=admin, folder_id=folders.site_b.pk, name="Depot")
    client.force_login(admin.user)
    html = _page(client, organization)
    assert '<select name="action"' in html
    assert '<option value="folder-create">Folder created</option>' in html
    filtered = client.get(_url("audit-event-list", organization), {"action": "folder-create"})
    assert [event.action for event in filtered.context["page"]] == ["folder.create"]
    assert '<option value="folder-create" selected>' in filtered.content.decode()


def test_an_unknown_event_type_is_a_form_error(client, admin, organization):
    client.force_login(admin.user)
    html = _page(client, organization, action="drop table")
    assert "Select a valid choice." in html
    assert "No events match." in html


def test_the_csv_export_holds_the_filtered_events_with_their_changes(
    client, admin, organization, folders
):
    services.create_folder(actor=admin, parent_id=folders.top.pk, name="Yard")
    services.rename_folder(actor=admin, folder_id=folders.site_b.pk, name="Depot")
    client.force_login(admin.user)
    response = client.get(_url("audit-event-export", organization), {"action": "folder-update"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="activity-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "When", "Who", "What", "Event type", "Target", "Changes", "Client address"
    ]  # fmt: skip
    assert len(rows) == 2
    assert rows[1][1:6] == [
        admin.user.email,
        "Folder changed",
        "folder.update",
        "Depot",
        "Name: Site B → Depot",
    ]


def test_the_csv_export_defuses_formulas(client, owner, organization):
    services.update_organization(actor=owner, name="=HYPERLINK(1)", notes="@SUM(A1)")
    client.force_login(owner.user)
    response = client.get(
        _url("audit-event-export", organization), {"action": "organization-update"}
    )
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][4] == "'=HYPERLINK(1)"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_csv_export_is_for_those_who_see_the_activity(client, viewer, organization):
    client.force_login(viewer.user)
    assert client.get(_url("audit-event-export", organization)).status_code == 403


def test_an_invalid_filter_sends_the_export_back_to_the_page(client, admin, organization):
    client.force_login(admin.user)
    query = {"since": "2030-01-02", "until": "2030-01-01"}
    response = client.get(_url("audit-event-export", organization), query)
    assert response.status_code == 302
    assert response["Location"].startswith(_url("audit-event-list", organization) + "?")


def test_folders_a_reader_cannot_see_are_not_named(owner, organization, folders, viewer):
    services.change_member(
        actor=owner, member_id=viewer.pk, role="viewer", folder_ids=[folders.site_b.pk]
    )
    event = _latest(organization)
    visible = {str(folders.site_b.pk): "Site B"}
    restricted = FolderNames(visible=visible, sees_all=False)
    assert [str(change) for change in describe_changes(event, restricted)] == [
        "Folders granted: Site B",
        "Folders revoked: a folder not visible to you",
    ]
    everything = FolderNames(visible=visible, sees_all=True)  # Building A1 deleted since
    assert [str(change) for change in describe_changes(event, everything)][1] == (
        "Folders revoked: Building A1"
    )
