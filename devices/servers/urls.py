"""Server pages, mounted at /o/<organization_id>/servers/ in the `servers` namespace."""

from django.urls import path

from devices.servers import views

app_name = "servers"

urlpatterns = [
    path("", views.server_list, name="server-list"),
    path(
        "registration-tokens/",
        views.registration_token_list,
        name="registration-token-list",
    ),
    path(
        "registration-tokens/<uuid:registration_token_id>/revoke/",
        views.registration_token_revoke,
        name="registration-token-revoke",
    ),
    path("<uuid:server_id>/", views.server_detail, name="server-detail"),
    path("<uuid:server_id>/upgrade/", views.server_upgrade, name="server-upgrade"),
    path("<uuid:server_id>/revoke-token/", views.server_token_revoke, name="server-token-revoke"),
    path("<uuid:server_id>/remove/", views.server_remove, name="server-remove"),
    path(
        "upgrades/<uuid:upgrade_id>/cancel/",
        views.server_upgrade_cancel,
        name="server-upgrade-cancel",
    ),
]
