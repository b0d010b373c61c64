"""Organization-scoped API tokens: shown once, stored hashed, stop when they should."""

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from common.errors import Forbidden, Invalid, NotFound
from organizations import selectors, services
from organizations.api.authentication import ApiTokenAuthentication
from organizations.models import ApiToken
from organizations.roles import Role
from organizations.tokens import hash_secret


def _token(membership, *, days=30, name="ci"):
    expires_on = timezone.localdate() + timedelta(days=days)
    return services.create_api_token(actor=membership, name=name, expires_on=expires_on)


def test_a_new_token_is_shown_once_and_stored_hashed(viewer):
    token, raw = _token(viewer)
    assert raw.startswith(f"{token.prefix}_")
    assert token.token_hash == hash_secret(raw)
    assert raw not in ApiToken.objects.filter(pk=token.pk).values_list("token_hash", flat=True)


def test_a_token_authenticates_as_its_member(viewer):
    token, raw = _token(viewer)
    found = services.authenticate_api_token(raw)
    assert found == token
    assert found.membership == viewer
    assert found.last_used_at is not None


def test_a_wrong_secret_with_a_real_prefix_is_refused(viewer):
    token, _raw = _token(viewer)
    assert services.authenticate_api_token(f"{token.prefix}_not-the-secret") is None


def test_an_expiry_date_in_the_past_is_refused(viewer):
    with pytest.raises(Invalid) as refused:
        _token(viewer, days=0)
    assert refused.value.code == "expiry_in_past"


def test_an_expired_token_stops_working(viewer):
    _token_row, raw = _token(viewer, days=1)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert services.authenticate_api_token(raw) is None


def test_a_revoked_token_stops_working(viewer):
    token, raw = _token(viewer)
    services.revoke_api_token(actor=viewer, token_id=token.pk)
    assert services.authenticate_api_token(raw) is None


def test_tokens_of_an_archived_organization_stop_working(owner, viewer, organization):
    _row, raw = _token(viewer)
    services.archive_organization(
        actor=owner, confirmation_id=str(organization.pk), understood=True
    )
    assert services.authenticate_api_token(raw) is None


def test_a_removed_members_tokens_stop_working(admin, viewer):
    _row, raw = _token(viewer)
    services.remove_members(actor=admin, member_ids=[viewer.pk])
    assert services.authenticate_api_token(raw) is None


def test_a_token_acts_with_the_members_current_role(admin, viewer):
    _row, raw = _token(viewer)
    services.change_member(actor=admin, member_id=viewer.pk, role=Role.OPERATOR)
    assert services.authenticate_api_token(raw).membership.role == Role.OPERATOR


def test_members_see_their_own_tokens_and_admins_see_all(admin, viewer, operator):
    mine, _ = _token(viewer)
    theirs, _ = _token(operator)
    assert list(selectors.api_tokens(viewer)) == [mine]
    assert set(selectors.api_tokens(admin)) == {mine, theirs}


def test_a_member_cannot_revoke_someone_elses_token(viewer, operator):
    theirs, _ = _token(operator)
    with pytest.raises(NotFound):
        services.revoke_api_token(actor=viewer, token_id=theirs.pk)


def test_an_admin_revokes_any_members_token(admin, operator):
    theirs, raw = _token(operator)
    services.revoke_api_token(actor=admin, token_id=theirs.pk)
    assert services.authenticate_api_token(raw) is None


def test_revoking_twice_is_harmless(viewer):
    token, _ = _token(viewer)
    first = services.revoke_api_token(actor=viewer, token_id=token.pk)
    again = services.revoke_api_token(actor=viewer, token_id=token.pk)
    assert first.revoked_at == again.revoked_at


def test_viewer_can_hold_a_token_but_not_manage_others(viewer):
    from organizations import access
    from organizations.roles import Action

    with pytest.raises(Forbidden):
        access.require(viewer, Action.TOKEN_MANAGE)


def _authenticate(header: str):
    request = Request(APIRequestFactory().get("/api/v1/", HTTP_AUTHORIZATION=header))
    return ApiTokenAuthentication().authenticate(request)


def test_drf_authentication_sets_the_person_and_the_token(viewer):
    token, raw = _token(viewer)
    user, auth = _authenticate(f"Token {raw}")
    assert (user, auth) == (viewer.user, token)


def test_drf_authentication_refuses_a_bad_token(db):
    with pytest.raises(AuthenticationFailed):
        _authenticate("Token cf0000000000_nothing")


def test_drf_authentication_ignores_other_schemes(db):
    assert _authenticate("Bearer something") is None


def test_database_keeps_a_token_in_its_memberships_organization(viewer, other_organization):
    token, _raw = services.create_api_token(
        actor=viewer, name="ci", expires_on=timezone.localdate() + timedelta(days=5)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS api_token_membership_same_organization IMMEDIATE")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(organization=other_organization)


def test_a_token_living_longer_than_a_year_is_refused_by_the_service_itself(viewer):
    too_far = timezone.localdate() + timedelta(days=services.MAX_TOKEN_DAYS + 1)
    with pytest.raises(Invalid) as refused:
        services.create_api_token(actor=viewer, name="forever", expires_on=too_far)
    assert refused.value.code == "expiry_too_far"
    assert "expires_on" in refused.value.fields
    assert not ApiToken.objects.filter(name="forever").exists()
