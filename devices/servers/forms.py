"""Forms of the server pages: registration tokens and upgrades. The services hold the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.forms import BootstrapForm
from devices.servers.services import REGISTRATION_TOKEN_HOURS


def _lifetime_label(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


class RegistrationTokenForm(BootstrapForm):
    name = forms.CharField(
        label=_("Name"), max_length=80, help_text=_("E.g. the server it is for.")
    )
    folder_id = forms.ChoiceField(label=_("Folder"), help_text=_("The server registers here."))
    valid_hours = forms.TypedChoiceField(label=_("Valid for"), coerce=int, initial=24, choices=())

    def __init__(self, *args, folders=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["folder_id"].choices = [
            (str(folder.pk), "\u2003" * getattr(folder, "level", 0) + folder.name)
            for folder in folders
        ]
        self.fields["valid_hours"].choices = [
            (hours, _lifetime_label(hours)) for hours in REGISTRATION_TOKEN_HOURS
        ]


class ServerUpgradeForm(BootstrapForm):
    release = forms.TypedChoiceField(label=_("Release"), coerce=int)
    service_fields = {"release_id": "release"}

    def __init__(self, *args, releases=(), recommended=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["release"].choices = [
            (
                release.pk,
                f"{release.version} — {release.released_on:%Y-%m-%d}"
                + (f" ({_('recommended')})" if release.is_recommended else ""),
            )
            for release in releases
        ]
        if recommended is not None:
            self.fields["release"].initial = recommended.pk
