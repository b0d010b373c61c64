"""Forms of the organization pages; they validate input, the services decide."""

import re
from collections.abc import Iterable
from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from common.forms import BootstrapForm
from common.time_zones import TimeZoneSelect, place_time_zones, with_current_zone
from organizations import access, audit
from organizations.models import Folder, Membership, Organization
from organizations.roles import ALL_FOLDERS_ROLES, Action, Role
from organizations.services import EMAIL_MAX_LENGTH


def _time_zone_choices() -> list[tuple[str, str]]:
    return [("", _("Inherit from the parent folder"))] + [
        (name, name) for name in place_time_zones()
    ]


def folder_choices(folders: list[Folder]) -> list[tuple[str, str]]:
    """Return (id, indented name) pairs in tree order for a select or checkbox list."""
    return [
        (str(folder.pk), "\u2003" * getattr(folder, "level", folder.depth) + folder.name)
        for folder in folders
    ]


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class OrganizationCreateForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    folder_names = forms.CharField(
        label=_("First folders (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One name per line, e.g. your sites. They are created under the top folder, "
            "which is named after the organization."
        ),
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter a name."))
        return name

    def clean_folder_names(self) -> list[str]:
        names = split_lines(self.cleaned_data["folder_names"])
        if len({name.casefold() for name in names}) != len(names):
            raise ValidationError(_("Each folder name may appear only once."))
        if any(len(name) > 120 for name in names):
            raise ValidationError(_("A folder name may have at most 120 characters."))
        return names


class OrganizationGeneralForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter a name."))
        return name


class SecuritySettingsForm(BootstrapForm):
    allow_elevated_invitations = forms.BooleanField(
        label=_("Allow operator and admin invitations"),
        required=False,
        help_text=_("Off: for security, invitations are limited to the viewer role."),
    )
    requires_mfa = forms.BooleanField(
        label=_("Members must use multi-factor authentication"),
        required=False,
        help_text=_("Members without a second factor are sent to enrolment before they can enter."),
    )


class ApiTokenCreateForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=80)
    expires_on = forms.DateField(
        label=_("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At most one year from today."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].initial = timezone.localdate() + timedelta(days=90)


class ArchiveForm(BootstrapForm):
    confirmation_id = forms.CharField(
        label=_("Organization ID"),
        max_length=64,
        help_text=_("Paste the organization ID shown above."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    understood = forms.BooleanField(label=_("I understand the risks"), required=True)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_confirmation_id(self) -> str:
        value = self.cleaned_data["confirmation_id"].strip()
        if value.lower() != str(self.organization.pk):
            raise ValidationError(_("This is not the ID of this organization."))
        return value


def _choices(roles: list[Role]) -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in roles]


class FolderAccessMixin(BootstrapForm):
    """Folders picked for operators and viewers; owners and admins see every folder anyway."""

    service_fields = {"folder_ids": "folders"}
    folders = forms.MultipleChoiceField(
        label=_("Folders"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Operators and viewers see the chosen folders and everything below them. "
            "Owners and admins see every folder."
        ),
    )

    def set_folder_choices(self, folders: list[Folder]) -> None:
        self.fields["folders"].choices = folder_choices(folders)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("role") in ALL_FOLDERS_ROLES:
            cleaned["folders"] = []
        return cleaned


class InviteForm(FolderAccessMixin):
    emails = forms.CharField(
        label=_("E-mail addresses"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or more addresses, separated by commas, spaces or new lines."),
    )
    role = forms.ChoiceField(label=_("Role"))
    field_order = ["emails", "role", "folders"]

    def __init__(self, *args, membership: Membership, folders: list[Folder], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _choices(
            access.invitable_roles(membership, membership.organization)
        )
        self.fields["role"].initial = Role.VIEWER
        if not membership.organization.allow_elevated_invitations:
            # Where to allow the other roles, one click away (admins see the setting read-only).
            link = format_html(
                '<a href="{}">{}</a>',
                reverse("organizations:organization-security", args=[membership.organization_id]),
                _("Settings → Security"),
            )
            message = (
                _(
                    "For security, invitations are limited to the viewer role. You can allow "
                    "operator and admin invitations in {link}."
                )
                if access.can(membership, Action.OWNER_GRANT)
                else _(
                    "For security, invitations are limited to the viewer role. An owner can "
                    "allow operator and admin invitations in {link}."
                )
            )
            self.fields["role"].help_text = format_html(str(message), link=link)
        self.set_folder_choices(folders)

    def clean_emails(self) -> list[str]:
        addresses = [part for part in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if part]
        if not addresses:
            raise ValidationError(_("Enter at least one e-mail address."))
        errors = []
        normalized: list[str] = []
        for address in addresses:
            if len(address) > EMAIL_MAX_LENGTH:
                errors.append(
                    _("An e-mail address has at most %(count)d characters: “%(address)s…”.")
                    % {"count": EMAIL_MAX_LENGTH, "address": address[:40]}
                )
                continue
            try:
                validate_email(address)
            except ValidationError:
                errors.append(_("“%(address)s” is not an e-mail address.") % {"address": address})
                continue
            if address.lower() not in normalized:
                normalized.append(address.lower())
        if errors:
            raise ValidationError(errors)
        return normalized


class MemberChangeForm(FolderAccessMixin):
    role = forms.ChoiceField(label=_("Role"))
    field_order = ["role", "folders"]

    def __init__(self, *args, membership: Membership, folders: list[Folder], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _choices(access.assignable_roles(membership))
        self.set_folder_choices(folders)


class MemberSearchForm(BootstrapForm):
    q = forms.CharField(
        label=_("Search users"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name or e-mail address")}
        ),
    )


class MemberSelectionForm(BootstrapForm):
    member = forms.MultipleChoiceField(label=_("Members"))

    def __init__(self, *args, members: list[Membership], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(str(m.pk), str(m.user)) for m in members]
        self.fields["member"].error_messages["invalid_choice"] = _(
            "One of the selected members no longer exists."
        )


class FolderNameForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, widget=TimeZoneSelect)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = with_current_zone(
            _time_zone_choices(), self.initial.get("time_zone")
        )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter a name."))
        return name


class FolderMoveForm(BootstrapForm):
    service_fields = {"new_parent_id": "new_parent"}
    new_parent = forms.ChoiceField(label=_("Move to"))

    def __init__(self, *args, folder: Folder, folders: list[Folder], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Its own subtree and its current parent are no destinations.
        targets = [
            candidate
            for candidate in folders
            if not candidate.path.startswith(folder.path) and candidate.pk != folder.parent_id
        ]
        # No destination is preselected: a careless "Move" would otherwise move it to the top.
        self.fields["new_parent"].choices = [("", _("Choose a folder…")), *folder_choices(targets)]


class FolderDeleteForm(BootstrapForm):
    understood = forms.BooleanField(label=_("I understand the risks"), required=True)


def audit_action_choices(actions: Iterable[str]) -> list[tuple[str, str]]:
    """Return these event types by their words, for the activity page's "What" list."""
    labelled = sorted(
        ((code.replace(".", "-"), audit.event_type_label(code)) for code in actions),
        key=lambda choice: choice[1].casefold(),
    )
    return [("", _("Anything")), *labelled]


class AuditActionField(forms.ChoiceField):
    """An event type from the list; cleans to its code ("folder.create").

    The list's values read "folder-create", so a filtered page names the other types only in
    words; the dotted code is taken too (links and bookmarks from the typed filter).
    """

    def to_python(self, value) -> str:
        return super().to_python(value).replace(".", "-")

    def clean(self, value) -> str:
        return super().clean(value).replace("-", ".")

    def bound_data(self, data, initial):
        return data.replace(".", "-") if isinstance(data, str) else data


class AuditFilterForm(BootstrapForm):
    actor = forms.ChoiceField(label=_("Who"), required=False)
    action = AuditActionField(label=_("What"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args, members: list[Membership], actions: Iterable[str] = (), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = audit_action_choices(actions)
        self.fields["actor"].choices = [
            ("", _("Anyone")),
            *(
                (
                    member.user.email,
                    f"{member.user.name} ({member.user.email})"
                    if member.user.name
                    else member.user.email,
                )
                for member in members
            ),
            (audit.SUPPORT, _("Support (shell commands)")),
        ]

    def clean_until(self):
        until = self.cleaned_data["until"]
        # The page filters up to the end of the day, which for the last date there is overflows.
        if until is not None and until >= date.max:
            raise ValidationError(_("Choose an earlier date."))
        return until

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end comes before the start."))
        return cleaned


class InvitationSignUpForm(BootstrapForm):
    name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        from django.contrib.auth import password_validation

        from accounts.models import User

        password = self.cleaned_data["password"]
        password_validation.validate_password(password, User(email=self.email))
        return password
