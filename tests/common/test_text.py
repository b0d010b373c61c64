"""The shared text rules: the quick answer for printable text is the character-by-character one."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from common.text import has_control_characters, reported_text

REFUSED = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _refused(character: str) -> bool:
    return unicodedata.category(character) in REFUSED


# Any code point, surrogates included, with the refused categories and spaces drawn often.
TEXT = st.text(
    st.one_of(
        st.characters(codec=None),
        st.characters(categories=sorted(REFUSED)),
        st.sampled_from(" \t\n\x00\x1b\u00a0\u2028\u202e\ufeff"),
    )
)


@given(TEXT)
def test_control_characters_are_found_in_any_text(text):
    assert has_control_characters(text) == any(map(_refused, text))


@given(TEXT, st.integers(min_value=0, max_value=40))
def test_reported_text_drops_them_one_spaces_and_cuts(text, max_length):
    kept = "".join(character for character in text if not _refused(character))
    assert reported_text(text, max_length) == " ".join(kept.split())[:max_length]


def test_examples():
    assert not has_control_characters("AXIS Q6135-LE PTZ 12.11.79 ÅÄÖ 監視")
    assert has_control_characters("cam\x1b[2J")
    assert has_control_characters("left\u202eright")
    assert reported_text(" AXIS\tP3265\x00-V\u2028 dome ", 64) == "AXISP3265-V dome"
    assert reported_text(12, 64) == "12"
