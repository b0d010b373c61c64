"""People: one account per e-mail address, and the record of their security events."""

import unicodedata

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from common.text import validate_name_characters


def canonical_email(value: str | None) -> str:
    """Return the one spelling of an address that accounts are stored and looked up under.

    Surrounding spaces, letter case and Unicode compatibility forms (full-width U+FF45 is "e",
    as IDNA turns it into when mail is sent) never make a second account or a second throttle.
    """
    return unicodedata.normalize("NFKC", value or "").strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=canonical_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("email_verified_at", timezone.now())
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Addresses are stored in canonical form, so sign-in ignores case, spaces and width.
        return self.get(**{self.model.USERNAME_FIELD: canonical_email(username)})


class User(AbstractBaseUser, PermissionsMixin):
    """One person, identified by e-mail address; may belong to many organizations."""

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        JAPANESE = "ja", _("Japanese")

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(
        _("name"), max_length=150, blank=True, validators=[validate_name_characters]
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=Language.choices,
        blank=True,
        help_text=_("Empty: follow the browser."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # ISO 3166 code; empty: the country of the time zone (`accounts.selectors.country_of`).
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    email_verified_at = models.DateTimeField(_("e-mail verified at"), null=True, blank=True)
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("May sign in to the admin site.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Changes when second factors are added or removed; part of the session hash, so every
    # other browser is signed out (as Django does for a password change).
    security_stamp = models.CharField(
        _("security stamp"), max_length=32, blank=True, editable=False
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # AbstractBaseUser (Django 5.2) builds get_session_auth_hash and the SECRET_KEY
        # fallbacks on this method; mixing in the stamp here covers both.
        if not self.security_stamp:
            # Django's own hash, so sessions from before the stamp existed stay signed in.
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "accounts.User.get_session_auth_hash"
        value = f"{self.password}:{self.security_stamp}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email.split("@")[0]


class SecurityEvent(models.Model):
    """One sign-in, failed sign-in or MFA change of an account (organization-less audit)."""

    class Action(models.TextChoices):
        SIGNED_UP = "account.signed_up", _("Signed up")
        EMAIL_VERIFIED = "account.email_verified", _("Verified e-mail address")
        SIGNED_IN = "account.signed_in", _("Signed in")
        SIGN_IN_FAILED = "account.sign_in_failed", _("Sign-in failed")
        MFA_FAILED = "account.mfa_failed", _("Second factor refused")
        LOCKED_OUT = "account.locked_out", _("Locked out after failed sign-ins")
        SIGNED_OUT = "account.signed_out", _("Signed out")
        PASSWORD_CHANGED = "account.password_changed", _("Changed password")
        PASSWORD_RESET = "account.password_reset", _("Reset password by e-mail")
        MFA_ADDED = "account.mfa_added", _("Added a second factor")
        MFA_REMOVED = "account.mfa_removed", _("Removed a second factor")
        BACKUP_CODES_CREATED = "account.backup_codes_created", _("Created backup codes")

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="security_events"
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    action = models.CharField(_("action"), max_length=64, choices=Action.choices)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.email} {self.action}"
