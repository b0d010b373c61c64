"""Forms of the licensing pages; the rules themselves are the services' (licensing.services)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from common.countries import country_choices
from common.forms import BootstrapForm
from licensing import services
from licensing.models import LedgerTransaction, LicenseKind, Product

MAX_COUNT = services.MAX_LICENSES_PER_MOVEMENT


def _count_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=MAX_COUNT,
        error_messages={
            "required": _("Enter how many licenses."),
            "invalid": _("Enter a whole number of licenses."),
        },
    )


class StartForm(BootstrapForm):
    kind = forms.ChoiceField(
        choices=[("trial", _("Trial")), ("subscription", _("Subscription"))],
        widget=forms.HiddenInput,
    )


class RedeemForm(BootstrapForm):
    key = forms.CharField(
        label=_("License key"),
        max_length=200,
        help_text=_("24 letters and digits, like XXXX-XXXX-XXXX-XXXX-XXXX-XXXX."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter the license key.")},
    )
    # Set on a product's page: a key of another product is refused there (`key_other_product`).
    product = forms.SlugField(max_length=40, required=False, widget=forms.HiddenInput)


class AllocateForm(BootstrapForm):
    year = forms.TypedChoiceField(label=_("Subscription year"), coerce=int)
    count = _count_field(_("Licenses to allocate"))
    # Made when the allocation is reviewed: confirming twice allocates once.
    idempotency_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, years: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [
            (year, _("Year %(year)d") % {"year": year}) for year in years
        ]


class TransferCountForm(BootstrapForm):
    """Transfer, step 1: which licenses and how many."""

    license_kind = forms.ChoiceField(label=_("License kind"))
    count = _count_field(_("Licenses to transfer"))

    def __init__(self, *args, product: Product, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["license_kind"].choices = [
            (kind, label) for kind, label in LicenseKind.choices if product.takes(kind)
        ]


class TransferTargetForm(BootstrapForm):
    """Transfer, step 2: to which organization (only those where the person is admin too)."""

    service_fields = {"target_organization": "target_organization"}
    target_organization = forms.ChoiceField(
        label=_("Transfer to"),
        error_messages={"required": _("Choose the organization to transfer to.")},
    )

    def __init__(self, *args, targets: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target_organization"].choices = [
            ("", _("Choose an organization…")),
            *((str(organization.pk), organization.name) for organization in targets),
        ]


class TransferConfirmForm(BootstrapForm):
    """Transfer, step 3: the summary's confirmation, once."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


class HistoryFilterForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("What"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, products: list[Product], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Everything")), *LedgerTransaction.Kind.choices]
        self.fields["product"].choices = [
            ("", _("Every product")),
            *((product.code, product.name) for product in products),
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned


class CountryForm(BootstrapForm):
    country = forms.ChoiceField(label=_("Country"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose a country…")), *country_choices()]
