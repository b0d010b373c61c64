"""Staff admin for tenants: read-only, since every change goes through the audited services."""

import uuid

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from organizations.models import AuditEvent, Invitation, Membership, Organization


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look; changes go through services (HTML, API, shell) so they are audited."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ArchivedFilter(admin.SimpleListFilter):
    title = _("archived")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", _("Archived")), ("no", _("Active"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        return queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["name", "id", "created_at", "archived_at"]
    list_filter = [ArchivedFilter]
    search_fields = ["=id", "name"]
    readonly_fields = [
        "id",
        "name",
        "notes",
        "allow_elevated_invitations",
        "requires_mfa",
        "created_at",
        "created_by",
        "archived_at",
        "archived_by",
        "audit_head_sequence",
    ]
    fields = readonly_fields
    inlines = [MembershipInline]

    def get_search_results(self, request, queryset, search_term):
        # "=id" on a UUID column fails for text that is not a UUID; search names only then.
        try:
            uuid.UUID(search_term.strip())
        except ValueError:
            return queryset.filter(name__icontains=search_term.strip()), False
        return super().get_search_results(request, queryset, search_term.strip())


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name", "=organization__id"]
    list_select_related = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "organization", "role", "state", "created_at", "expires_at"]
    list_filter = ["state", "role"]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization"]
    exclude = ["token_hash"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "organization",
        "sequence",
        "actor_label",
        "action",
        "target_label",
    ]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "target_label", "=organization__id"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"
