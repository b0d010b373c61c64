"""License key text: the check character catches typos before any lookup."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensing import keys

bodies = st.text(alphabet=keys.ALPHABET, min_size=keys.BODY_LENGTH, max_size=keys.BODY_LENGTH)
valid_keys = bodies.map(lambda body: body + keys.check_character(body))


def test_a_generated_key_reads_back_in_the_forms_people_type():
    text = keys.generate()
    assert len(text) == 29
    assert text.count("-") == 5
    normalized = keys.normalize(text)
    assert keys.normalize(text.lower()) == normalized
    assert keys.normalize(" ".join(text.split("-"))) == normalized
    assert keys.normalize(normalized.replace("0", "O").replace("1", "I")) == normalized


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "length"), ("ABCD-EFGH", "length"), ("ABCD-EFGH-JKMN-PQRS-TVWX-YZ0U", "character")],
)
def test_text_that_is_no_key_says_why(text, reason):
    with pytest.raises(keys.MalformedKey, match=reason):
        keys.normalize(text)


@given(normalized=valid_keys, data=st.data())
def test_every_single_mistyped_character_is_caught(normalized, data):
    position = data.draw(st.integers(0, keys.LENGTH - 1))
    wrong = data.draw(st.sampled_from(keys.ALPHABET).filter(lambda c: c != normalized[position]))
    typo = normalized[:position] + wrong + normalized[position + 1 :]
    with pytest.raises(keys.MalformedKey, match="check"):
        keys.normalize(typo)


@given(normalized=valid_keys, data=st.data())
def test_swapped_neighbours_are_caught_unless_they_are_equal(normalized, data):
    position = data.draw(st.integers(0, keys.LENGTH - 2))
    a, b = normalized[position], normalized[position + 1]
    swapped = normalized[:position] + b + a + normalized[position + 2 :]
    # Luhn mod 32 misses exactly one pair of neighbours: 0 and Z (values 0 and 31) swapped.
    if a == b or {a, b} == {"0", "Z"}:
        return
    with pytest.raises(keys.MalformedKey, match="check"):
        keys.normalize(swapped)


def test_the_stored_hash_does_not_contain_the_key():
    normalized = keys.normalize(keys.generate())
    digest = keys.key_hash(normalized)
    assert len(digest) == 64
    assert normalized not in digest
    assert keys.hint(normalized) == normalized[-4:]
