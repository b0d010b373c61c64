"""Forms of the system setup pages; the rules themselves live in licensing.services_systems."""

from django import forms
from django.utils.translation import gettext_lazy as _

from common.forms import BootstrapForm
from licensing import system_files


class RegisterHardwareForm(BootstrapForm):
    hardware_model = forms.ChoiceField(label=_("Hardware model"))
    serial = forms.CharField(
        label=_("Serial number"),
        max_length=64,
        help_text=_("As printed on the hardware's label."),
    )
    name = forms.CharField(label=_("Name"), max_length=120, required=False)

    def __init__(self, *args, hardware_models, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hardware_model"].choices = [("", "—")] + [
            (
                str(model.pk),
                _("%(model)s (%(product)s, %(count)d pre-loaded licenses)")
                % {
                    "model": model,
                    "product": model.product.name,
                    "count": model.preloaded_count,
                },
            )
            for model in hardware_models
        ]


class SystemFileForm(BootstrapForm):
    file = forms.FileField(
        label=_("System file"),
        help_text=_("The JSON file the on-premises software wrote, at most %(size)d KB.")
        % {"size": system_files.MAX_FILE_BYTES // 1024},
    )


class SystemAllocateForm(BootstrapForm):
    count = forms.IntegerField(label=_("Licenses to allocate"), min_value=1, max_value=1_000_000)


class ApplyUpgradeForm(BootstrapForm):
    """Choose one license to upgrade; its value names the product and the system or year."""

    target = forms.ChoiceField(label=_("License to upgrade"))

    def __init__(self, *args, targets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "—")] + [
            (
                target_value(target),
                _("%(product)s · %(what)s: %(count)d licenses (uses %(count)d upgrade licenses)")
                % {
                    "product": target.product.name,
                    "what": (
                        _("system %(id)s") % {"id": target.system.identifier}
                        if target.system
                        else _("subscription year %(year)d") % {"year": target.year}
                    ),
                    "count": target.count,
                },
            )
            for target in targets
        ]

    def service_arguments(self) -> dict:
        """Return the chosen target as `apply_upgrade_license`'s arguments."""
        product_code, kind, value = self.cleaned_data["target"].split("|", 2)
        if kind == "system":
            return {"product_code": product_code, "system_id": value}
        return {"product_code": product_code, "year": value}


def target_value(target) -> str:
    """Return the form value naming one upgrade target."""
    if target.system is not None:
        return f"{target.product.code}|system|{target.system.pk}"
    return f"{target.product.code}|year|{target.year}"
