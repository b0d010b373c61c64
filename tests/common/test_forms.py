"""The form plumbing every app shares."""

from django import forms

from common.errors import Conflict, Invalid
from common.forms import BootstrapForm, apply_domain_error, form_status


class PickForm(BootstrapForm):
    service_fields = {"folder_ids": "folders"}

    name = forms.CharField()
    folders = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    kind = forms.ChoiceField(choices=[("a", "A")])


def test_widgets_carry_bootstrap_classes():
    form = PickForm()
    classes = {name: field.widget.attrs["class"] for name, field in form.fields.items()}
    assert classes == {"name": "form-control", "folders": "form-check-input", "kind": "form-select"}


def test_a_refusal_lands_on_the_field_it_names_under_the_forms_name():
    form = PickForm({"name": "x", "kind": "a"})
    assert form.is_valid()
    apply_domain_error(form, Invalid("folders_unknown", "Unknown.", {"folder_ids": ["Unknown."]}))
    assert form.errors == {"folders": ["Unknown."]}
    assert form_status(form) == 400


def test_a_refusal_without_fields_lands_on_the_given_field_with_its_status():
    form = PickForm({"name": "x", "kind": "a"})
    assert form.is_valid()
    apply_domain_error(form, Conflict("taken", "Taken."), "name")
    assert form.errors == {"name": ["Taken."]}
    assert form_status(form) == 409


def test_a_fresh_form_answers_200_and_an_invalid_one_400():
    assert form_status(PickForm()) == 200
    assert form_status(PickForm({})) == 400
