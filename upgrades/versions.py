"""AXIS OS versions and tracks (VAPIX.md §11.1 to §11.3), as pure functions.

Versions are compared as integer tuples padded with zeros, never as strings: "12.11.9" is older
than "12.11.77". A version's track follows from its `major.minor`: the LTS lines are fixed by
Axis (one every two years); everything else on the current active major is the active track;
older lines (product-specific support) are on no track we recommend from.
"""

import re

from django.utils.translation import gettext

from devices.vapix import compare_versions

__all__ = [
    "ACTIVE",
    "LTS_LINES",
    "compare_versions",
    "is_version",
    "track_label",
    "track_of",
    "version_key",
]

ACTIVE = "active"
# LTS 2016, 2018, 2020, 2022, 2024 and 2026 (VAPIX.md §11.1).
LTS_LINES = ("6.50", "8.40", "9.80", "10.12", "11.11", "12.11")

# Three or four numeric parts: "12.11.77", "9.80.3.12" (VAPIX.md §11.2).
_VERSION = re.compile(r"\d{1,5}(\.\d{1,5}){2,3}")
_KEY_PARTS = 4
_KEY_DIGITS = 5


def is_version(text: str) -> bool:
    """Return True for an AXIS OS version string such as "12.11.77" or "9.80.3.12"."""
    return bool(_VERSION.fullmatch(text or ""))


def version_key(version: str) -> str:
    """Return a key that sorts like the version, also as a string in the database.

    "12.11.77" → "00012.00011.00077.00000"; "12.11.77" and "12.11.77.0" get the same key.
    """
    if not is_version(version):
        raise ValueError(f"not an AXIS OS version: {version!r}")
    parts = [int(part) for part in version.split(".")]
    parts += [0] * (_KEY_PARTS - len(parts))
    return ".".join(f"{part:0{_KEY_DIGITS}d}" for part in parts)


def lts_line(version: str) -> str | None:
    """Return the LTS line ("11.11") a version belongs to, or None."""
    if not is_version(version):
        return None
    major, minor = version.split(".")[:2]
    line = f"{int(major)}.{int(minor)}"
    return line if line in LTS_LINES else None


def track_of(version: str, *, active_major: int | None) -> str | None:
    """Return the track a device running `version` is on: an LTS line, ACTIVE, or None.

    `active_major` is the major version of the current active track (from the catalog). A
    version on neither (an older line, or junk) is on no track: nothing is recommended for it,
    because moving to another track is an admin's explicit choice (VAPIX.md §11.3).
    """
    if line := lts_line(version):
        return line
    if is_version(version) and int(version.split(".")[0]) == active_major:
        return ACTIVE
    return None


def release_track(version: str) -> str:
    """Return the track a catalog release of `version` belongs to: its LTS line, else ACTIVE."""
    return lts_line(version) or ACTIVE


def track_label(track: str) -> str:
    """Return a track's name for people: "Active" or "LTS 11.11"."""
    return gettext("Active") if track == ACTIVE else gettext("LTS %(line)s") % {"line": track}
