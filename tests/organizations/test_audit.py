"""The audit log: every service writes its event, rows are append-only, tampering is detected."""

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from organizations import audit, services
from organizations.models import AuditEvent
from organizations.roles import Role
from tests.accounts.factories import UserFactory
from tests.organizations.factories import (
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
)

FAR_FUTURE = date.today() + timedelta(days=365)


def _last_event(organization) -> AuditEvent:
    return AuditEvent.objects.filter(organization=organization).order_by("-sequence").first()


SERVICE_CALLS = {
    "organization.update": lambda t: services.update_organization(
        actor=t.admin, name="Renamed", notes=""
    ),
    "organization.security_update": lambda t: services.update_security_settings(
        actor=t.owner, allow_elevated_invitations=True, requires_mfa=True
    ),
    "organization.archive": lambda t: services.archive_organization(
        actor=t.owner, confirmation_id=str(t.organization.pk), understood=True
    ),
    "invitation.create": lambda t: services.invite_members(
        actor=t.admin, emails=["new@example.com"], role=Role.VIEWER, folder_ids=[t.site_a.pk]
    ),
    "invitation.revoke": lambda t: services.revoke_invitation(
        actor=t.admin, invitation_id=InvitationFactory(organization=t.organization).pk
    ),
    "invitation.resend": lambda t: services.resend_invitation(
        actor=t.admin, invitation_id=InvitationFactory(organization=t.organization).pk
    ),
    "invitation.accept": lambda t: services.accept_invitation(
        user=UserFactory(email="joiner@example.com"),
        raw_token=InvitationFactory(
            organization=t.organization, email="joiner@example.com"
        ).raw_token,
    ),
    "member.change": lambda t: services.change_member(
        actor=t.admin, member_id=t.viewer.pk, role=Role.OPERATOR, folder_ids=[t.site_b.pk]
    ),
    "member.remove": lambda t: services.remove_members(actor=t.admin, member_ids=[t.viewer.pk]),
    "folder.create": lambda t: services.create_folder(
        actor=t.admin, parent_id=t.top.pk, name="Depot"
    ),
    "folder.update": lambda t: services.rename_folder(
        actor=t.admin, folder_id=t.site_b.pk, name="South"
    ),
    "folder.move": lambda t: services.move_folder(
        actor=t.admin, folder_id=t.site_b.pk, new_parent_id=t.site_a.pk
    ),
    "folder.delete": lambda t: services.delete_folder(
        actor=t.admin, folder_id=t.site_b.pk, understood=True
    ),
    "api_token.create": lambda t: services.create_api_token(
        actor=t.viewer, name="ci", expires_on=FAR_FUTURE
    ),
    "api_token.revoke": lambda t: services.revoke_api_token(
        actor=t.viewer,
        token_id=services.create_api_token(actor=t.viewer, name="x", expires_on=FAR_FUTURE)[0].pk,
    ),
}


def test_creating_an_organization_writes_the_first_event(user):
    organization = services.create_organization(user=user, name="Fresh")
    event = _last_event(organization)
    assert (event.sequence, event.action, event.actor_user) == (1, "organization.create", user)
    assert event.previous_hash == ""


@pytest.mark.parametrize("action", list(SERVICE_CALLS))
def test_every_service_writes_its_event(tenant, action):
    SERVICE_CALLS[action](tenant)
    event = _last_event(tenant.organization)
    assert event.action == action
    assert audit.verify_chain(tenant.organization) is None


def test_restore_writes_an_event_by_support(tenant):
    SERVICE_CALLS["organization.archive"](tenant)
    services.restore_organization(organization_id=tenant.organization.pk, reason="ticket 7")
    event = _last_event(tenant.organization)
    assert (event.action, event.actor_label, event.actor_user_id) == (
        "organization.restore",
        "support",
        None,
    )


def test_events_carry_who_what_target_and_where(admin, folders):
    with audit.request_context(client_address="203.0.113.9"):
        services.rename_folder(
            actor=admin, folder_id=folders.building_a1.pk, name="Renamed building"
        )
    event = _last_event(admin.organization)
    assert event.actor_user == admin.user
    assert event.actor_label == admin.user.email
    assert event.target_type == "organizations.folder"
    assert event.target_label == "Renamed building"
    assert event.data["name"] == {"from": "Building A1", "to": "Renamed building"}
    assert event.client_address == "203.0.113.9"


@pytest.mark.parametrize(
    ("address", "stored"),
    [
        ("::ffff:203.0.113.9", "203.0.113.9"),  # an IPv4 client on a dual-stack socket
        ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("203.0.113.9", "203.0.113.9"),
        ("::1.2.3.4", "::1.2.3.4"),  # PostgreSQL spells it unlike Python ("::102:304")
    ],
)
def test_the_chain_verifies_whatever_the_form_of_the_client_address(
    admin, folders, address, stored
):
    with audit.request_context(client_address=address):
        services.rename_folder(actor=admin, folder_id=folders.building_a1.pk, name="Moved")
    event = AuditEvent.objects.get(pk=_last_event(admin.organization).pk)  # as read back
    assert event.client_address == stored
    assert audit.verify_chain(admin.organization) is None


def test_an_address_hashes_the_same_in_every_spelling_of_it(three_events):
    event = three_events[0]
    content = {
        "previous_hash": event.previous_hash,
        "sequence": event.sequence,
        "actor_user_id": event.actor_user_id,
        "actor_token_id": None,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "data": event.data,
        "created_at": event.created_at,
    }
    # Events written before addresses were normalised hashed Python's spelling of a mapped
    # address; PostgreSQL hands back its own. Both must verify.
    spellings = ["::ffff:cb00:7109", "::ffff:203.0.113.9", "::FFFF:CB00:7109"]
    hashes = {audit.compute_hash(**content, client_address=spelling) for spelling in spellings}
    assert len(hashes) == 1


def test_events_made_through_an_api_token_name_the_token(viewer):
    token, _raw = services.create_api_token(actor=viewer, name="ci", expires_on=FAR_FUTURE)
    with audit.request_context(client_address="198.51.100.1", api_token=token):
        services.create_api_token(actor=viewer, name="second", expires_on=FAR_FUTURE)
    event = _last_event(viewer.organization)
    assert event.actor_token_id == token.pk
    assert token.prefix in event.actor_label


def test_sequence_numbers_are_consecutive_per_organization(tenant, other_tenant):
    for name in ("One", "Two", "Three"):
        services.create_folder(actor=tenant.admin, parent_id=tenant.top.pk, name=name)
    services.create_folder(actor=other_tenant.admin, parent_id=other_tenant.top.pk, name="X")
    sequences = list(
        AuditEvent.objects.filter(organization=tenant.organization)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, len(sequences) + 1))
    assert len(sequences) == 3


def test_the_database_refuses_to_update_an_event(admin, folders):
    services.create_folder(actor=admin, parent_id=folders.top.pk, name="Depot")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(organization=folders.organization).update(action="x")


def test_the_database_refuses_to_delete_an_event(admin, folders):
    services.create_folder(actor=admin, parent_id=folders.top.pk, name="Depot")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(organization=folders.organization).delete()


def _tamper(sql: str, params: list) -> None:
    """Change audit rows behind the trigger's back, as a database superuser could."""
    with connection.cursor() as cursor:
        # "replica" skips ordinary triggers, the append-only one included (superusers only).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


@pytest.fixture
def three_events(admin, folders):
    for name in ("One", "Two", "Three"):
        services.create_folder(actor=admin, parent_id=folders.top.pk, name=name)
    return list(AuditEvent.objects.filter(organization=folders.organization).order_by("sequence"))


def test_an_intact_chain_verifies(three_events, organization):
    assert audit.verify_chain(organization) is None


def test_an_altered_event_is_detected(three_events, organization):
    second = three_events[1]
    _tamper(
        "UPDATE organizations_auditevent SET data = %s WHERE id = %s",
        ['{"name": "Forged"}', second.pk],
    )
    found = audit.verify_chain(organization)
    assert (found.sequence, found.event.pk) == (2, second.pk)
    assert "content" in found.reason


def test_a_removed_event_is_detected(three_events, organization):
    _tamper("DELETE FROM organizations_auditevent WHERE id = %s", [three_events[1].pk])
    found = audit.verify_chain(organization)
    assert found.sequence == 2
    assert "missing" in found.reason


def test_a_removed_last_event_is_detected(three_events, organization):
    _tamper("DELETE FROM organizations_auditevent WHERE id = %s", [three_events[2].pk])
    found = audit.verify_chain(organization)
    assert "removed" in found.reason


def test_a_rehashed_forgery_is_still_detected_by_the_next_event(three_events, organization):
    # Forge event #2 and recompute its own hash: event #3 no longer links to it.
    second = three_events[1]
    forged = audit.compute_hash(
        previous_hash=second.previous_hash,
        sequence=2,
        actor_user_id=second.actor_user_id,
        actor_token_id=None,
        actor_label=second.actor_label,
        action=second.action,
        target_type=second.target_type,
        target_id=second.target_id,
        target_label=second.target_label,
        data={"name": "Forged"},
        client_address=None,
        created_at=second.created_at,
    )
    _tamper(
        "UPDATE organizations_auditevent SET data = %s, hash = %s WHERE id = %s",
        ['{"name": "Forged"}', forged, second.pk],
    )
    found = audit.verify_chain(organization)
    assert found.sequence == 3


def test_verify_audit_chain_command_passes_on_intact_chains(three_events, organization):
    out = io.StringIO()
    call_command("verify_audit_chain", str(organization.pk), stdout=out)
    assert "intact" in out.getvalue()


def test_verify_audit_chain_command_fails_naming_the_first_broken_event(
    three_events, organization, other_organization
):
    second = three_events[1]
    _tamper(
        "UPDATE organizations_auditevent SET actor_label = %s WHERE id = %s",
        ["someone@else.example", second.pk],
    )
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_audit_chain", stdout=out)
    assert f"event #2 (id {second.pk}" in str(failed.value)
    assert str(organization.pk) in str(failed.value)
    assert f"ok      {other_organization.pk}" in out.getvalue()


def test_verify_audit_chain_command_rejects_an_unknown_organization(db):
    with pytest.raises(CommandError, match="No organization has the ID"):
        call_command("verify_audit_chain", "00000000-0000-0000-0000-000000000000")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_consecutive_sequence_numbers(race):
    organization = OrganizationFactory()
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)
    top = organization.top_folder
    outcomes = race(
        *(
            (lambda n=n: services.create_folder(actor=admin, parent_id=top.pk, name=f"F{n}"))
            for n in range(4)
        )
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    sequences = sorted(
        AuditEvent.objects.filter(organization=organization).values_list("sequence", flat=True)
    )
    assert sequences == [1, 2, 3, 4]
    assert audit.verify_chain(organization) is None


def test_request_context_applies_only_inside_its_block():
    with audit.request_context(client_address="192.0.2.1"):
        assert audit.current_request_context().client_address == "192.0.2.1"
    assert audit.current_request_context().client_address is None


def test_another_apps_event_type_shows_its_label_on_the_activity_page(
    client, admin, organization, monkeypatch
):
    # As devices would from its AppConfig.ready(), without touching the organizations app.
    monkeypatch.setattr(audit, "_event_types", dict(audit._event_types))
    # (An action no app registers: the devices app registers device.restart with its own words.)
    audit.register_event_types({"gadget.restart": "Gadget restarted"})
    with transaction.atomic():
        audit.record(admin, organization, "gadget.restart", None, {"device": "Gate"})
    client.force_login(admin.user)
    page = client.get(reverse("organizations:audit-event-list", args=[organization.pk]))
    html = page.content.decode()
    assert "Gadget restarted" in html
    assert "gadget.restart" in html
    assert "Folder created" not in html


def test_an_event_type_registered_twice_with_other_words_is_refused(monkeypatch):
    monkeypatch.setattr(audit, "_event_types", dict(audit._event_types))
    with pytest.raises(ImproperlyConfigured, match=r"folder\.create"):
        audit.register_event_types({"folder.create": "Something else"})


def test_every_organization_service_event_has_words():
    assert set(SERVICE_CALLS) <= set(audit.ORGANIZATION_EVENT_TYPES) | {"organization.restore"}
    assert all(audit.event_type_label(action) != action for action in SERVICE_CALLS)
