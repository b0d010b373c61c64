from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from accounts.models import SecurityEvent, User


def admin_sign_in(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """Send the admin's sign-in to the account pages, the one door that throttles and records.

    OTPAdminSite's own login form would be a second door: codes checked there count toward no
    lockout and no sign-in is recorded. A signed-in person lands here when the admin refused
    them: staff without a passed second factor are told how to get one.
    """
    if request.user.is_authenticated:
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        if selectors.has_mfa(request.user):
            message = _("The admin needs your second factor: sign out and sign in again with it.")
        else:
            message = _("Add a second factor to open the admin.")
        messages.warning(request, message)
        return redirect("accounts:security")
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("admin:index")
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")


# Set on the site instance, so it holds whichever AdminSite class config/urls.py picks.
admin.site.login = admin_sign_in  # type: ignore[method-assign]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "email_verified_at", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["email", "name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("name", "language", "time_zone", "email_verified_at")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "email", "action", "client_address"]
    list_filter = ["action"]
    search_fields = ["email", "client_address"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
