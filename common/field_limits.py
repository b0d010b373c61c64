"""Text fields say their maximum length, so nobody learns it from an error after typing."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


def say_max_length(field: forms.Field) -> None:
    """Add "At most N characters." to a text field's help (the browser gets `maxlength` too).

    Longer input is refused by the field's own validator with a message, never cut.
    """
    max_length = getattr(field, "max_length", None)
    if not max_length or field.widget.is_hidden or isinstance(field.widget, forms.PasswordInput):
        return
    limit = _("At most %(count)d characters.") % {"count": max_length}
    field.help_text = format_lazy("{} {}", field.help_text, limit) if field.help_text else limit
