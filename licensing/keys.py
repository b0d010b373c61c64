"""License key text: human-friendly, with a check character, hashed for storage.

A key is 24 characters of Crockford's base-32 alphabet (no I, L, O or U, so nothing reads as
another letter), shown in six groups of four: `7KQ2-M9XD-…`. The first 23 carry 115 random bits;
the last is a Luhn mod 32 check character, which catches every single mistyped character and
every swap of two different neighbours but 0 and Z, so a typo is reported before the database
is asked. Reading forgives what people do: lower case, spaces or no dashes, O for 0 and I or L
for 1.
"""

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {character: index for index, character in enumerate(ALPHABET)}
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
BODY_LENGTH = 23
LENGTH = BODY_LENGTH + 1
GROUP = 4


class MalformedKey(ValueError):
    """The text is not a license key: wrong length, a foreign character, or a typo."""


def check_character(body: str) -> str:
    """Return the Luhn mod 32 check character of `body`."""
    total = 0
    factor = 2
    base = len(ALPHABET)
    for character in reversed(body):
        addend = factor * _VALUE[character]
        factor = 1 if factor == 2 else 2
        total += addend // base + addend % base
    return ALPHABET[(base - total % base) % base]


def generate() -> str:
    """Return a new random key, formatted for people."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_key(body + check_character(body))


def format_key(normalized: str) -> str:
    """Return a normalized key in groups of four, joined by dashes."""
    return "-".join(normalized[i : i + GROUP] for i in range(0, len(normalized), GROUP))


def normalize(text: str) -> str:
    """Return the key as stored for hashing, or raise MalformedKey saying what is wrong."""
    compact = "".join(text.split()).replace("-", "").upper().translate(_READS_AS)
    if len(compact) != LENGTH:
        raise MalformedKey("length")
    if any(character not in _VALUE for character in compact):
        raise MalformedKey("character")
    if check_character(compact[:-1]) != compact[-1]:
        raise MalformedKey("check")
    return compact


def key_hash(normalized: str) -> str:
    """Return the SHA-256 stored for a normalized key (115 random bits need no salt)."""
    return hashlib.sha256(normalized.encode()).hexdigest()


def hint(normalized: str) -> str:
    """Return the last four characters, enough for staff to tell keys apart."""
    return normalized[-GROUP:]
