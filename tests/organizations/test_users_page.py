"""Users page: second factor and last sign-in, search, grants not visible to the reader; the
MFA setting says whom it sends to enrolment."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations.models import Membership
from tests.accounts.factories import UserFactory
from tests.organizations.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _users(client, organization, **query):
    response = client.get(reverse("organizations:member-list", args=[organization.pk]), query)
    assert response.status_code == 200
    return response


def test_users_show_second_factor_and_last_sign_in(client, admin, viewer, organization):
    TOTPDevice.objects.create(user=viewer.user, name="phone", confirmed=True)
    viewer.user.last_login = datetime(2026, 12, 4, 10, 5, tzinfo=UTC)
    viewer.user.time_zone = "UTC"
    viewer.user.save(update_fields=["last_login", "time_zone"])
    admin.user.time_zone = "Asia/Tokyo"
    admin.user.save(update_fields=["time_zone"])
    client.force_login(admin.user)
    response = _users(client, organization)
    members = {member.pk: member for member in response.context["members"]}
    assert members[viewer.pk].has_second_factor is True
    assert members[admin.pk].has_second_factor is False
    html = response.content.decode()
    assert "Second factor" in html
    assert "Last sign-in" in html
    assert '<time datetime="2026-12-04T10:05:00+00:00">2026-12-04 19:05 JST</time>' in html


def test_users_search_by_name_or_address(client, admin, viewer, operator, organization):
    # Faker's random names of the other members must not match the term (it once found "Vera").
    viewer.user.name = "Vera Qzxviewer"
    viewer.user.save(update_fields=["name"])
    client.force_login(admin.user)
    found = _users(client, organization, q="qzxview").context["members"]
    assert [member.pk for member in found] == [viewer.pk]
    found = _users(client, organization, q=operator.user.email.upper()).context["members"]
    assert [member.pk for member in found] == [operator.pk]
    html = _users(client, organization, q="nobody-at-all").content.decode()
    assert "No users match “nobody-at-all”." in html


def test_users_search_through_htmx_answers_the_list(client, admin, viewer, organization):
    client.force_login(admin.user)
    response = _users(client, organization, q=viewer.user.email, HTTP_HX_REQUEST="true")
    assert 'id="member-table"' in response.content.decode()
    assert [member.pk for member in response.context["members"]] == [viewer.pk]


def test_a_too_long_search_is_refused_with_a_message(client, admin, organization):
    client.force_login(admin.user)
    response = _users(client, organization, q="x" * 101)
    assert "Ensure this value has at most 100 characters (it has 101)." in (
        response.content.decode()
    )
    assert (
        len(response.context["members"])
        == Membership.objects.filter(organization=organization).count()
    )


def test_grants_the_reader_cannot_see_say_so_instead_of_none(client, organization, folders):
    reader = MembershipFactory(organization=organization, role="viewer", folders=[folders.site_b])
    hidden = MembershipFactory(
        organization=organization, role="viewer", folders=[folders.building_a1]
    )
    both = MembershipFactory(
        organization=organization,
        role="viewer",
        folders=[folders.site_b, folders.room_a1x],
        user=UserFactory(name="Both Folders"),
    )
    client.force_login(reader.user)
    html = _users(client, organization).content.decode()
    row = html[html.index(f'id="member-{hidden.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "not visible to you" in row
    assert "None" not in row
    assert "Building A1" not in row
    row = html[html.index(f'id="member-{both.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Site B" in row
    assert "not visible to you" in row


def test_the_mfa_setting_says_how_many_members_it_sends_to_enrolment(client, owner, organization):
    TOTPDevice.objects.create(user=owner.user, name="phone", confirmed=True)
    client.force_login(owner.user)
    url = reverse("organizations:organization-security", args=[organization.pk])
    count = Membership.objects.filter(organization=organization).count() - 1
    html = client.get(url).content.decode()
    assert (
        f"Turning this on sends {count} members without a second factor to enrolment "
        "before they can enter."
    ) in html
