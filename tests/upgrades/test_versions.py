"""AXIS OS versions compare as versions and belong to tracks (VAPIX.md §11.1 to §11.3)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from upgrades.versions import ACTIVE, compare_versions, release_track, track_of, version_key


@pytest.mark.parametrize(
    ("older", "newer"),
    [("12.11.9", "12.11.77"), ("9.80.3.12", "10.12.1"), ("11.11.99", "11.11.100")],
)
def test_versions_order_as_numbers_not_strings(older, newer):
    assert older > newer  # as strings these sort the wrong way round
    assert compare_versions(older, newer) < 0
    assert version_key(older) < version_key(newer)


def test_a_missing_fourth_part_counts_as_zero():
    assert version_key("12.11.77") == version_key("12.11.77.0")


def test_junk_is_not_a_version():
    for junk in ("", "12", "12.11", "v12.11.77", "12.11.77-beta", "1.2.3.4.5"):
        with pytest.raises(ValueError, match="not an AXIS OS version"):
            version_key(junk)


parts = st.lists(st.integers(min_value=0, max_value=99999), min_size=3, max_size=4)


@given(parts, parts)
def test_the_database_key_orders_like_compare_versions(left, right):
    a, b = ".".join(map(str, left)), ".".join(map(str, right))
    by_key = (version_key(a) > version_key(b)) - (version_key(a) < version_key(b))
    assert by_key == compare_versions(a, b)


@pytest.mark.parametrize(
    ("version", "track"),
    [
        ("11.11.192", "11.11"),
        ("10.12.338", "10.12"),
        ("12.11.86", "12.11"),
        ("9.80.3.23", "9.80"),
        ("12.9.57", ACTIVE),
        ("11.8.61", None),  # an older active line: no track, no recommendation
        ("5.51.7.6", None),
        ("garbage", None),
    ],
)
def test_a_devices_track_follows_from_its_version(version, track):
    assert track_of(version, active_major=12) == track


def test_without_active_releases_no_device_is_on_the_active_track():
    assert track_of("12.9.57", active_major=None) is None
    assert track_of("11.11.1", active_major=None) == "11.11"


def test_a_release_is_on_its_lts_line_else_on_the_active_track():
    assert release_track("11.11.192") == "11.11"
    assert release_track("12.9.57") == ACTIVE
