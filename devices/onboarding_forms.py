"""Forms of the onboarding pages: one device, or a CSV file of many. They present the rules of
`devices.onboarding` and `devices.imports`; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from common.forms import BootstrapForm
from devices import imports
from devices.models import Device
from devices.onboarding import PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH


def folder_choices(folders) -> list[tuple[str, str]]:
    """Return (id, indented name) for the visible folders in tree order (`folder_tree`)."""
    return [(str(folder.pk), "\u2003" * folder.level + folder.name) for folder in folders]


class OnboardDeviceForm(BootstrapForm):
    host = forms.CharField(
        label=_("Address"),
        max_length=253,
        help_text=_("The device's IP address or host name."),
    )
    port = forms.IntegerField(
        label=_("Port"),
        min_value=1,
        max_value=65535,
        required=False,
        help_text=_("Empty: 80 for HTTP, 443 for HTTPS."),
    )
    scheme = forms.ChoiceField(label=_("Scheme"), choices=Device.Scheme.choices, initial="https")
    username = forms.CharField(label=_("User name"), max_length=USERNAME_MAX_LENGTH)
    password = forms.CharField(
        label=_("Password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        # Never rendered back into the page, not even after a refusal.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    expected_fingerprint = forms.CharField(
        label=_("Expected certificate fingerprint (optional)"),
        max_length=95,
        required=False,
        help_text=_(
            "HTTPS only: the SHA-256 fingerprint the device must present. Empty: the service "
            "trusts the certificate the device presents now and pins it."
        ),
    )
    folder = forms.ChoiceField(label=_("Folder"))

    def __init__(self, *args, folders=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = folder_choices(folders)


class ImportDevicesForm(BootstrapForm):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    folder = forms.ChoiceField(label=_("Folder"), help_text=_("For the lines that name no folder."))

    def __init__(self, *args, folders=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = folder_choices(folders)
        self.fields["file"].help_text = _(
            "UTF-8, one device per line, at most %(limit)d lines, with a header line: host, "
            "port, scheme, username, password, folder. The simulator's fleet file is accepted "
            "as it is."
        ) % {"limit": imports.MAX_IMPORT_ROWS}
