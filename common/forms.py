"""Form plumbing every app shares: Bootstrap widgets, a service's refusal on a form, its status."""

from django import forms

from common.errors import DomainError
from common.field_limits import say_max_length


class BootstrapFieldsMixin:
    """Give a form's widgets Bootstrap's classes for partials/form_fields.html.

    Text fields say their maximum length in their help (see `say_max_length`); after
    validation, fields with errors are marked `is-invalid` and `aria-invalid`. A mixin, so
    Django's own forms (sign-in, password change, model forms) get it too.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            say_max_length(field)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"


class BootstrapForm(BootstrapFieldsMixin, forms.Form):
    """A plain form with Bootstrap widgets (see `BootstrapFieldsMixin`).

    A form whose field names differ from the service's arguments says so in `service_fields`
    (service name → form field), so `apply_domain_error` finds the field a refusal names.
    """

    service_fields: dict[str, str] = {}


def apply_domain_error(form: forms.Form, error: DomainError, field: str | None = None) -> None:
    """Put a service's refusal on the form: on the fields it names, else on `field` (or on top).

    Remembers the refusal's status for `form_status`.
    """
    form.error_status = error.http_status
    renames = getattr(form, "service_fields", {})
    placed = False
    for name, problems in (error.fields or {}).items():
        name = renames.get(name, name)
        if name in form.fields:
            for problem in problems if isinstance(problems, list | tuple) else [problems]:
                form.add_error(name, str(problem))
            placed = True
    if not placed:
        form.add_error(field, str(error.message))


def form_status(form: forms.Form) -> int:
    """Return the status to answer a form with: 200 unless it was submitted and refused.

    A refused form answers 400 (invalid input) or the service's refusal (403, 409), so htmx
    swaps the form with its errors back in, and tests can tell a refusal from a fresh page.
    """
    if form.is_bound and form.errors:
        return getattr(form, "error_status", 400)
    return 200
