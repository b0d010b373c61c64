"""Staff admin: the list of server releases (editable: it is staff data, not a tenant's)."""

from django.contrib import admin

from devices.servers.models import ServerRelease


@admin.register(ServerRelease)
class ServerReleaseAdmin(admin.ModelAdmin):
    list_display = ("version", "released_on", "is_recommended")
    list_filter = ("is_recommended",)
    search_fields = ("version",)
    ordering = ("-released_on",)
