"""Inviting people, the viewer-only policy, and accepting (or not) an e-mailed link."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from common.errors import Conflict, Forbidden, Invalid, NotFound
from organizations import access, selectors, services
from organizations.models import AuditEvent, Folder, Invitation, Membership
from organizations.roles import Role
from organizations.tokens import hash_secret
from tests.accounts.factories import UserFactory
from tests.organizations.factories import (
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
)


def _invite(membership, emails, role=Role.VIEWER, folder_ids=None):
    if folder_ids is None:
        # Operators and viewers are invited with folders; any folder will do here.
        folder_ids = [Folder.objects.get(organization=membership.organization, parent=None).pk]
    return services.invite_members(
        actor=membership, emails=emails, role=role, folder_ids=folder_ids
    )


def _raw_token_from_mail(message) -> str:
    line = next(line for line in message.body.splitlines() if "/invitations/" in line)
    return line.rstrip("/").rsplit("/", 1)[1]


def test_invitation_is_e_mailed_after_commit_with_a_single_use_link(
    admin, folders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [invitation] = _invite(admin, ["New.Person@example.com"], folder_ids=[folders.site_b.pk])
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    [message] = mail.outbox
    assert message.to == ["new.person@example.com"]
    raw_token = _raw_token_from_mail(message)
    assert invitation.token_hash == hash_secret(raw_token)
    assert raw_token not in invitation.token_hash
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert list(invitation.folders.all()) == [folders.site_b]


def test_several_addresses_get_one_invitation_each(admin):
    invitations = _invite(admin, ["a@example.com, b@example.com", "a@example.com"])
    assert sorted(i.email for i in invitations) == ["a@example.com", "b@example.com"]


def test_invitations_are_limited_to_viewers_by_default(admin):
    with pytest.raises(Forbidden) as refused:
        _invite(admin, ["op@example.com"], role=Role.OPERATOR)
    assert refused.value.code == "viewer_only"


def test_owner_can_allow_operator_and_admin_invitations(owner, admin):
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=True, requires_mfa=False
    )
    admin.organization.refresh_from_db()
    [invitation] = _invite(admin, ["second-admin@example.com"], role=Role.ADMIN)
    assert invitation.role == Role.ADMIN


def test_nobody_is_invited_as_owner(owner):
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=True, requires_mfa=False
    )
    owner.organization.refresh_from_db()
    with pytest.raises(Invalid) as refused:
        _invite(owner, ["co-owner@example.com"], role=Role.OWNER)
    assert refused.value.code == "owner_by_elevation_only"


def test_operator_cannot_invite(operator):
    with pytest.raises(Forbidden):
        _invite(operator, ["friend@example.com"])


def test_inviting_an_existing_member_is_refused(admin, viewer):
    with pytest.raises(Conflict) as refused:
        _invite(admin, ["fresh@example.com", viewer.user.email.upper()])
    assert refused.value.code == "already_member"
    assert not Invitation.objects.filter(email="fresh@example.com").exists()


def test_inviting_an_address_with_a_pending_invitation_is_refused(admin):
    _invite(admin, ["twice@example.com"])
    with pytest.raises(Conflict) as refused:
        _invite(admin, ["twice@example.com"])
    assert refused.value.code == "already_invited"


def test_an_expired_invitation_does_not_block_a_new_one(admin):
    _invite(admin, ["late@example.com"])
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        [again] = _invite(admin, ["late@example.com"])
    assert again.state == Invitation.State.PENDING
    states = Invitation.objects.filter(email="late@example.com").values_list("state", flat=True)
    assert sorted(states) == ["expired", "pending"]


def test_folders_of_another_organization_cannot_be_granted(admin, other_tenant):
    with pytest.raises(Invalid) as refused:
        _invite(admin, ["x@example.com"], folder_ids=[other_tenant.site_a.pk])
    assert refused.value.code == "folders_unknown"


def test_invalid_addresses_are_refused(admin):
    with pytest.raises(Invalid) as refused:
        _invite(admin, ["not-an-address"])
    assert refused.value.code == "email_invalid"


def test_accepting_joins_with_the_role_and_the_folders(admin, folders):
    person = UserFactory(email="joiner@example.com")
    invitation = InvitationFactory(
        organization=folders.organization, email="joiner@example.com", role=Role.VIEWER
    )
    invitation.folders.set([folders.site_a])
    membership = services.accept_invitation(user=person, raw_token=invitation.raw_token)
    assert membership.role == Role.VIEWER
    assert set(access.visible_folders(membership)) == {
        folders.site_a,
        folders.building_a1,
        folders.room_a1x,
    }
    invitation.refresh_from_db()
    assert (invitation.state, invitation.accepted_by) == (Invitation.State.ACCEPTED, person)


def test_accepting_ignores_the_case_of_the_address(organization):
    person = UserFactory(email="mixed@example.com")
    invitation = InvitationFactory(organization=organization, email="Mixed@Example.com")
    assert services.accept_invitation(user=person, raw_token=invitation.raw_token)


def test_an_expired_invitation_explains_itself(organization):
    person = UserFactory(email="slow@example.com")
    invitation = InvitationFactory(organization=organization, email="slow@example.com")
    later = timezone.now() + timedelta(days=7, minutes=1)
    with time_machine.travel(later), pytest.raises(Invalid) as refused:
        services.accept_invitation(user=person, raw_token=invitation.raw_token)
    assert refused.value.code == "invitation_expired"
    assert "expired" in str(refused.value.message)


def test_a_revoked_invitation_explains_itself_and_grants_nothing(admin):
    person = UserFactory(email="revoked@example.com")
    invitation = InvitationFactory(organization=admin.organization, email="revoked@example.com")
    services.revoke_invitation(actor=admin, invitation_id=invitation.pk)
    with pytest.raises(Invalid) as refused:
        services.accept_invitation(user=person, raw_token=invitation.raw_token)
    assert refused.value.code == "invitation_revoked"
    assert not person.memberships.exists()


def test_an_invitation_works_only_once(organization):
    person = UserFactory(email="once@example.com")
    invitation = InvitationFactory(organization=organization, email="once@example.com")
    services.accept_invitation(user=person, raw_token=invitation.raw_token)
    with pytest.raises(Invalid) as refused:
        selectors.get_pending_invitation_by_token(invitation.raw_token)
    assert refused.value.code == "invitation_used"


def test_an_invitation_for_another_address_is_refused_with_an_explanation(organization):
    somebody_else = UserFactory(email="someone.else@example.com")
    invitation = InvitationFactory(organization=organization, email="invited@example.com")
    with pytest.raises(Forbidden) as refused:
        services.accept_invitation(user=somebody_else, raw_token=invitation.raw_token)
    assert refused.value.code == "invitation_wrong_email"
    assert "someone.else@example.com" in str(refused.value.message)
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.PENDING


def test_a_member_cannot_accept_another_invitation_to_the_same_organization(viewer):
    invitation = InvitationFactory(organization=viewer.organization, email=viewer.user.email)
    with pytest.raises(Conflict) as refused:
        services.accept_invitation(user=viewer.user, raw_token=invitation.raw_token)
    assert refused.value.code == "already_member"


def test_an_unknown_link_is_not_found(db):
    with pytest.raises(NotFound):
        selectors.get_pending_invitation_by_token("made-up-token")


def test_an_invitation_to_an_archived_organization_is_not_found(owner, organization):
    invitation = InvitationFactory(organization=organization)
    services.archive_organization(
        actor=owner, confirmation_id=str(organization.pk), understood=True
    )
    with pytest.raises(NotFound):
        selectors.get_pending_invitation_by_token(invitation.raw_token)


def test_pending_invitations_leave_out_expired_accepted_and_revoked_ones(admin, organization):
    pending = InvitationFactory(organization=organization)
    InvitationFactory(organization=organization, state=Invitation.State.REVOKED)
    InvitationFactory(organization=organization, expires_at=timezone.now() - timedelta(hours=1))
    InvitationFactory(organization=organization, state=Invitation.State.ACCEPTED)
    InvitationFactory()  # another organization's
    assert list(selectors.pending_invitations(admin)) == [pending]


def test_revoking_another_organizations_invitation_is_not_found(admin, other_organization):
    invitation = InvitationFactory(organization=other_organization)
    with pytest.raises(NotFound):
        services.revoke_invitation(actor=admin, invitation_id=invitation.pk)


@pytest.mark.django_db(transaction=True)
def test_an_invitation_accepted_twice_at_once_is_used_once(race):
    organization = OrganizationFactory()
    person = UserFactory(email="double@example.com")
    invitation = InvitationFactory(organization=organization, email="double@example.com")
    outcomes = race(
        lambda: services.accept_invitation(user=person, raw_token=invitation.raw_token),
        lambda: services.accept_invitation(user=person, raw_token=invitation.raw_token),
    )
    joined = [o for o in outcomes if isinstance(o, Membership)]
    refused = [o.code for o in outcomes if isinstance(o, Invalid)]
    assert len(joined) == 1, outcomes
    assert refused == ["invitation_used"], outcomes
    assert Membership.objects.filter(organization=organization, user=person).count() == 1


def test_an_overlong_address_is_refused_not_a_database_error(admin, folders):
    address = f"{'a' * 64}@{'b' * 60}.{'c' * 60}.{'d' * 60}.{'e' * 60}.com"  # 312 characters
    with pytest.raises(Invalid) as refused:
        services.invite_members(
            actor=admin,
            emails=[address, "fine@example.com"],
            role=Role.VIEWER,
            folder_ids=[folders.site_a.pk],
        )
    assert refused.value.code == "email_invalid"
    assert not Invitation.objects.exists()


def test_more_addresses_than_the_limit_are_refused_by_the_service_itself(admin, folders):
    emails = [f"person{n}@example.com" for n in range(services.MAX_INVITATION_EMAILS + 1)]
    with pytest.raises(Invalid) as refused:
        _invite(admin, emails, folder_ids=[folders.site_a.pk])
    assert refused.value.code == "too_many_emails"
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_an_operator_or_viewer_invitation_without_folders_is_refused_by_the_service(owner, role):
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=True, requires_mfa=False
    )
    with pytest.raises(Invalid) as refused:
        _invite(owner, ["nobody@example.com"], role=role, folder_ids=[])
    assert refused.value.code == "folders_required"
    assert "folder_ids" in refused.value.fields
    assert not Invitation.objects.exists()


def test_an_admin_invitation_needs_no_folders(owner):
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=True, requires_mfa=False
    )
    [invitation] = _invite(owner, ["boss@example.com"], role=Role.ADMIN, folder_ids=[])
    assert list(invitation.folders.all()) == []


# --- An invitation lives only as long as its sender may send it ---------------------------


def _allow_elevated(owner, allowed=True):
    services.update_security_settings(
        actor=owner, allow_elevated_invitations=allowed, requires_mfa=False
    )
    owner.organization.refresh_from_db()


def _revocations(organization):
    return list(
        AuditEvent.objects.filter(organization=organization, action="invitation.revoke")
        .order_by("sequence")
        .values_list("data", flat=True)
    )


def test_removing_a_member_revokes_the_invitations_they_sent(
    owner, admin, folders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [invitation] = _invite(admin, ["friend@example.com"], folder_ids=[folders.site_b.pk])
    services.remove_members(actor=owner, member_ids=[admin.pk])
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED
    [revoked] = _revocations(owner.organization)
    assert revoked["email"] == "friend@example.com"
    assert revoked["reason"] == "inviter_removed"
    person = UserFactory(email="friend@example.com")
    with pytest.raises(Invalid) as refused:
        services.accept_invitation(user=person, raw_token=_raw_token_from_mail(mail.outbox[-1]))
    assert refused.value.code == "invitation_revoked"
    assert not person.memberships.exists()


def test_removing_a_member_leaves_the_invitations_of_others_pending(owner, admin, folders):
    [by_owner] = _invite(owner, ["kept@example.com"], folder_ids=[folders.site_b.pk])
    services.remove_members(actor=owner, member_ids=[admin.pk])
    by_owner.refresh_from_db()
    assert by_owner.state == Invitation.State.PENDING


def test_demoting_an_admin_revokes_the_invitations_they_can_no_longer_send(owner, admin, folders):
    _allow_elevated(owner)
    [as_admin] = _invite(admin, ["second-admin@example.com"], role=Role.ADMIN)
    services.change_member(
        actor=owner, member_id=admin.pk, role=Role.OPERATOR, folder_ids=[folders.site_a.pk]
    )
    as_admin.refresh_from_db()
    assert as_admin.state == Invitation.State.REVOKED
    [revoked] = _revocations(owner.organization)
    assert revoked["reason"] == "inviter_role_changed"


def test_demoting_an_owner_to_admin_keeps_the_admin_invitations(owner, folders):
    _allow_elevated(owner)
    other_owner = MembershipFactory(organization=owner.organization, role=Role.OWNER)
    [invitation] = _invite(owner, ["new-admin@example.com"], role=Role.ADMIN)
    services.change_member(actor=other_owner, member_id=owner.pk, role=Role.ADMIN)
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.PENDING
    assert _revocations(owner.organization) == []


def test_switching_back_to_viewer_only_revokes_pending_elevated_invitations(owner, admin, folders):
    _allow_elevated(owner)
    [elevated] = _invite(
        admin, ["op@example.com"], role=Role.OPERATOR, folder_ids=[folders.site_a.pk]
    )
    [viewer_invitation] = _invite(admin, ["viewer@example.com"], folder_ids=[folders.site_a.pk])
    _allow_elevated(owner, allowed=False)
    elevated.refresh_from_db()
    viewer_invitation.refresh_from_db()
    assert elevated.state == Invitation.State.REVOKED
    assert viewer_invitation.state == Invitation.State.PENDING
    [revoked] = _revocations(owner.organization)
    assert (revoked["email"], revoked["reason"]) == ("op@example.com", "policy_viewer_only")


def test_accepting_rechecks_the_inviters_standing(owner, admin, folders):
    # An invitation the revocation missed (written behind the services' back) is still refused.
    invitation = InvitationFactory(
        organization=owner.organization, email="late@example.com", invited_by=admin.user
    )
    Membership.objects.filter(pk=admin.pk).delete()
    person = UserFactory(email="late@example.com")
    with pytest.raises(Invalid) as refused:
        selectors.get_pending_invitation_by_token(invitation.raw_token)
    assert refused.value.code == "invitation_inviter_gone"
    with pytest.raises(Invalid):
        services.accept_invitation(user=person, raw_token=invitation.raw_token)
    assert "no longer a member" in str(refused.value.message)
    assert not person.memberships.exists()


def test_accepting_rechecks_the_invitation_policy(owner, folders):
    invitation = InvitationFactory(
        organization=owner.organization,
        email="op@example.com",
        role=Role.OPERATOR,
        invited_by=owner.user,
    )
    person = UserFactory(email="op@example.com")
    with pytest.raises(Invalid) as refused:
        services.accept_invitation(user=person, raw_token=invitation.raw_token)
    assert refused.value.code == "invitation_not_allowed"
    assert not person.memberships.exists()


def test_accepting_rechecks_the_inviters_role(owner, operator, folders):
    _allow_elevated(owner)
    invitation = InvitationFactory(
        organization=owner.organization,
        email="admin2@example.com",
        role=Role.ADMIN,
        invited_by=operator.user,
    )
    person = UserFactory(email="admin2@example.com")
    with pytest.raises(Invalid) as refused:
        services.accept_invitation(user=person, raw_token=invitation.raw_token)
    assert refused.value.code == "invitation_not_allowed"
