"""Dates in one unambiguous form; time-zone pickers of current places; fields say their limit."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from common.errors import Invalid
from common.templatetags.when import format_when
from common.time_zones import place_time_zones
from organizations import services
from organizations.forms import FolderNameForm
from organizations.models import Folder

MOMENT = datetime(2026, 12, 4, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Tokyo", "2026-12-04 19:05 JST"),
        ("UTC", "2026-12-04 10:05 UTC"),
        ("Europe/Berlin", "2026-12-04 11:05 CET"),
        ("Asia/Kathmandu", "2026-12-04 15:50 UTC+05:45"),  # tzdata has no letters for it
        ("America/Sao_Paulo", "2026-12-04 07:05 UTC-03:00"),
    ],
)
def test_times_show_the_persons_zone_the_same_in_both_languages(zone, shown):
    with timezone.override(zone):
        for language in ("en", "ja"):
            with translation.override(language):
                assert format_when(MOMENT) == shown


def test_the_when_filter_renders_a_time_element_and_dates_alone():
    template = Template("{% load when %}{{ moment|when }}|{{ day|when }}|{{ nothing|when }}")
    with timezone.override("Asia/Tokyo"):
        rendered = template.render(Context({"moment": MOMENT, "day": date(2027, 1, 31)}))
    assert rendered == (
        '<time datetime="2026-12-04T10:05:00+00:00">2026-12-04 19:05 JST</time>|'
        '<time datetime="2027-01-31">2027-01-31</time>|'
    )


def test_places_are_current_names_without_legacy_aliases():
    places = place_time_zones()
    for alias in ("Japan", "US/Pacific", "Etc/GMT+5", "EST5EDT", "GB", "localtime", "Factory"):
        assert alias not in places
    for place in ("UTC", "Asia/Tokyo", "America/Los_Angeles", "Europe/Oslo"):
        assert place in places


@pytest.mark.django_db
def test_a_legacy_alias_is_refused_with_a_message(admin, folders):
    with pytest.raises(Invalid) as refused:
        services.rename_folder(
            actor=admin, folder_id=folders.site_b.pk, name="Site B", time_zone="US/Pacific"
        )
    assert refused.value.fields == {"time_zone": ["“US/Pacific” is not a known time zone."]}


def test_the_folder_picker_groups_places_by_region_with_their_offset():
    with timezone.override("UTC"):
        html = str(FolderNameForm()["time_zone"])
    assert 'data-filter-label="Search time zones"' in html
    assert '<optgroup label="Asia">' in html
    assert '<option value="Asia/Tokyo">Tokyo (UTC+09:00)</option>' in html
    assert '<option value="America/Argentina/Buenos_Aires">Argentina/Buenos Aires (UTC-03:00)' in (
        html
    )
    assert html.index(">Inherit from the parent folder<") < html.index("<optgroup")
    assert "Japan" not in html


@pytest.mark.django_db
def test_the_profile_picker_groups_places_in_japanese(client, user):
    client.force_login(user)
    html = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<optgroup label="アジア">' in html
    assert '<option value="UTC" selected>UTC (UTC+00:00)</option>' in html


def test_name_fields_say_their_maximum_length():
    html = str(FolderNameForm()["name"])
    assert 'maxlength="120"' in html
    assert FolderNameForm().fields["name"].help_text == "At most 120 characters."


@pytest.mark.django_db
def test_a_longer_name_is_refused_with_a_message_not_cut(client, admin, folders):
    client.force_login(admin.user)
    url = reverse("organizations:folder-rename", args=[folders.organization.pk, folders.site_b.pk])
    response = client.post(url, {"name": "x" * 121, "time_zone": ""})
    assert response.status_code == 400
    assert "Ensure this value has at most 120 characters (it has 121)." in (
        response.content.decode()
    )
    assert Folder.objects.get(pk=folders.site_b.pk).name == "Site B"


@pytest.mark.django_db
def test_the_profile_name_says_its_limit_and_refuses_more(client, user):
    client.force_login(user)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert 'maxlength="150"' in html
    assert "At most 150 characters." in html
    response = client.post(
        reverse("accounts:profile"), {"name": "y" * 151, "language": "", "time_zone": "UTC"}
    )
    assert "Ensure this value has at most 150 characters (it has 151)." in (
        response.content.decode()
    )
    user.refresh_from_db()
    assert user.name != "y" * 151


@pytest.mark.django_db
def test_a_sign_up_address_longer_than_an_account_holds_is_refused(client):
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".example"
    response = client.post(
        reverse("accounts:sign-up"),
        {"name": "", "email": address, "password": "correct horse battery"},
    )
    assert response.status_code in (200, 400)
    assert "Ensure this value has at most 254 characters" in response.content.decode()


@pytest.mark.django_db
def test_a_folder_saved_with_an_older_zone_name_keeps_it_when_renamed(client, admin, folders):
    Folder.objects.filter(pk=folders.site_b.pk).update(time_zone="Japan")
    client.force_login(admin.user)
    url = reverse("organizations:folder-rename", args=[folders.organization.pk, folders.site_b.pk])
    assert '<option value="Japan" selected>Japan</option>' in client.get(url).content.decode()
    response = client.post(url, {"name": "Depot", "time_zone": "Japan"})
    assert response.status_code == 302
    folder = Folder.objects.get(pk=folders.site_b.pk)
    assert (folder.name, folder.time_zone) == ("Depot", "Japan")
