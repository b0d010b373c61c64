"""Countries a person or a reseller can be in: ISO 3166 codes, names in the reader's language.

Names come from pycountry and its own translations (Japanese included); a person's default
country is the one tzdata's zone.tab gives their time zone, so nobody has to pick it first.
"""

import gettext
from functools import cache
from importlib import resources

import pycountry
from django.utils import translation


@cache
def country_codes() -> frozenset[str]:
    """Return every ISO 3166-1 alpha-2 code."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _translations(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_name(code: str) -> str:
    """Return the country's common name in the active language ("" for an unknown code)."""
    country = pycountry.countries.get(alpha_2=code) if code else None
    if country is None:
        return ""
    english = getattr(country, "common_name", None) or country.name
    language = (translation.get_language() or "en").split("-")[0]
    if language == "en":
        return english
    # pycountry's catalogues translate the official short name, not the common one.
    return _translations(language).gettext(country.name)


def country_choices() -> list[tuple[str, str]]:
    """Return (code, name) for every country, sorted by name in the active language."""
    return sorted(((code, country_name(code)) for code in country_codes()), key=lambda c: c[1])


@cache
def _zone_countries() -> dict[str, str]:
    table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    zones = {}
    for line in table.splitlines():
        columns = line.split("\t")
        if line and not line.startswith("#") and len(columns) >= 3:
            zones[columns[2]] = columns[0]
    return zones


def zone_country(zone: str) -> str:
    """Return the country code zone.tab gives a time zone ("JP" for Asia/Tokyo; "" for UTC)."""
    return _zone_countries().get(zone or "", "")
