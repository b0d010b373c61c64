"""Text rules every app shares: what a typed name may hold, and how a terminal shows one."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from common.errors import Invalid

# Control (Cc) and format (Cf) characters, lone surrogates (Cs) and the line and paragraph
# separators (Zl, Zp): line breaks that inject mail headers, terminal escape sequences, and
# invisible characters that hide or reorder text. Ordinary spaces are Zs and stay allowed.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def has_control_characters(text: str) -> bool:
    """Return True when the text holds a control or format character (line break, tab, ESC…)."""
    # Every refused character is one `str.isprintable` refuses too (it refuses all of C and Z
    # but the space), so printable text, nearly all of it, is answered in C without a look at
    # each character: check-ins and polls clean a few dozen strings each.
    return not text.isprintable() and any(map(_refused, text))


def _refused(character: str) -> bool:
    return unicodedata.category(character) in _REFUSED_CATEGORIES


_CONTROL_CHARACTERS_MESSAGE = _(
    "A name cannot contain line breaks, tabs, or other control or invisible formatting characters."
)


def refuse_control_characters(text: str, *, field_name: str = "name") -> str:
    """Return the text, or raise Invalid naming `field_name` when it holds control characters."""
    if has_control_characters(text):
        message = _CONTROL_CHARACTERS_MESSAGE
        raise Invalid("name_control_characters", message, {field_name: [message]})
    return text


def validate_name_characters(text: str) -> None:
    """Model-field validator with the same rule, for writes the services do not see (the admin)."""
    if has_control_characters(text):
        raise ValidationError(_CONTROL_CHARACTERS_MESSAGE, code="name_control_characters")


def printable(text: object) -> str:
    """Return the text with every non-printable character escaped (\\x1b, \\n, \\u202e).

    For support commands: a name stored before the rule (or written behind the services' back)
    must not reach a terminal as an escape sequence.
    """
    return "".join(
        character if character.isprintable() else character.encode("unicode_escape").decode()
        for character in str(text)
    )


def reported_text(value: object, max_length: int) -> str:
    """Return text a device or server reported: no control characters, one-spaced, cut to fit.

    What a device says is not trusted: an escape sequence in its product name must not reach a
    support terminal, nor a NUL byte or an overlong answer fail a write with a database error.
    """
    text = str(value)
    if not text.isprintable():
        text = "".join(character for character in text if not _refused(character))
    return " ".join(text.split())[:max_length]
