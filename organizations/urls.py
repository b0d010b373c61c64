"""Organization pages: /o/new/, /o/<organization_id>/…, and /invitations/<token>/."""

from django.urls import include, path

from organizations import views

app_name = "organizations"

organization_patterns = [
    path("", views.organization_detail, name="organization-detail"),
    path("settings/", views.organization_settings, name="organization-settings"),
    path("settings/security/", views.organization_security, name="organization-security"),
    path("settings/api-tokens/", views.token_list, name="token-list"),
    path("settings/api-tokens/<uuid:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("settings/archive/", views.organization_archive, name="organization-archive"),
    path("users/", views.member_list, name="member-list"),
    path("users/invite/", views.invitation_create, name="invitation-create"),
    path("users/remove/", views.member_bulk_remove, name="member-bulk-remove"),
    path(
        "users/invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path(
        "users/invitations/<uuid:invitation_id>/resend/",
        views.invitation_resend,
        name="invitation-resend",
    ),
    path("users/<uuid:member_id>/", views.member_change, name="member-change"),
    path("users/<uuid:member_id>/remove/", views.member_remove, name="member-remove"),
    path("folders/", views.folder_list, name="folder-list"),
    path("folders/<uuid:folder_id>/", views.folder_detail, name="folder-detail"),
    path("folders/<uuid:folder_id>/new/", views.folder_create, name="folder-create"),
    path("folders/<uuid:folder_id>/rename/", views.folder_rename, name="folder-rename"),
    path("folders/<uuid:folder_id>/move/", views.folder_move, name="folder-move"),
    path("folders/<uuid:folder_id>/delete/", views.folder_delete, name="folder-delete"),
    path("activity/", views.audit_event_list, name="audit-event-list"),
    path("activity/export.csv", views.audit_event_export, name="audit-event-export"),
]

urlpatterns = [
    path("o/new/", views.organization_create, name="organization-create"),
    path("o/<uuid:organization_id>/", include(organization_patterns)),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
