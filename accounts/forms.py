"""Forms of the account pages."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.contrib.auth.forms import SetPasswordForm as DjangoSetPasswordForm
from django.core.cache import cache
from django.core.validators import validate_email
from django.template import loader
from django.utils.translation import gettext_lazy as _

from accounts import services, tasks
from accounts.models import User, canonical_email
from common.countries import country_choices, country_name, zone_country
from common.errors import DomainError
from common.forms import BootstrapFieldsMixin
from common.time_zones import TimeZoneSelect, place_time_zones, with_current_zone


def _clean_person_name(name: str) -> str:
    """Apply the accounts' rule for names (`services.clean_person_name`) as a form error."""
    try:
        return services.clean_person_name(name)
    except DomainError as error:
        raise forms.ValidationError(str(error.message)) from None


class SignInForm(BootstrapFieldsMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _("The e-mail address or password is not correct."),
        "inactive": _("This account is disabled."),
    }


class PasswordResetForm(BootstrapFieldsMixin, DjangoPasswordResetForm):
    """Django's reset form, sending at most one link a minute to an address, from a worker.

    The page answers the same either way, so the limit reveals nothing about the account; the
    mail leaves after the answer, so an SMTP round trip does not time the answer for a known
    address apart from an unknown one.
    """

    RESEND_SECONDS = 60

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict,
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html_body = (
            loader.render_to_string(html_email_template_name, context)
            if html_email_template_name
            else None
        )
        tasks.send_account_email.delay_on_commit(
            subject, body, from_email or settings.DEFAULT_FROM_EMAIL, to_email, html_body
        )

    def get_users(self, email: str):
        key = f"accounts:password-reset-sent:{canonical_email(email)}"
        if not cache.add(key, 1, self.RESEND_SECONDS):
            return iter(())
        return super().get_users(email)


class SecondFactorForm(BootstrapFieldsMixin, forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("A code from your authenticator app, an e-mailed code, or a backup code."),
    )


class SignUpForm(BootstrapFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,  # User.email; the e-mail validator alone lets 320 through
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not only digits, not a common password."),
    )

    def clean_name(self) -> str:
        return _clean_person_name(self.cleaned_data["name"])

    def clean_email(self) -> str:
        email = canonical_email(self.cleaned_data["email"])
        # Compatibility forms may fold into something invalid: U+FF20 becomes "@".
        validate_email(email)
        try:
            services.check_email_free(email=email)
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None
        return email

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(email=cleaned.get("email", ""), name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class CodeForm(BootstrapFieldsMixin, forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordConfirmForm(BootstrapFieldsMixin, forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ProfileForm(BootstrapFieldsMixin, forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), widget=TimeZoneSelect)

    country = forms.ChoiceField(
        label=_("Country"),
        required=False,
        help_text=_("Where to buy licenses lists the resellers serving this country."),
    )

    class Meta:
        model = User
        fields = ["name", "language", "time_zone", "country"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = with_current_zone(
            [(zone, zone) for zone in place_time_zones()], self.instance.time_zone
        )
        self.fields["language"].choices = [("", _("Browser default")), *User.Language.choices]
        from_zone = country_name(zone_country(self.instance.time_zone))
        default = (
            _("From my time zone (%(country)s)") % {"country": from_zone}
            if from_zone
            else _("From my time zone")
        )
        self.fields["country"].choices = [("", default), *country_choices()]

    def clean_name(self) -> str:
        return _clean_person_name(self.cleaned_data["name"])


class PasswordChangeForm(BootstrapFieldsMixin, DjangoPasswordChangeForm):
    """Django's form, with the current password called what people call it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")


class SetPasswordForm(BootstrapFieldsMixin, DjangoSetPasswordForm):
    """Django's form for a new password after a reset link, with the shared field styling."""
