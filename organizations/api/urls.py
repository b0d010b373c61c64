"""Organization API routes, mounted under /api/v1/ in the `api` namespace."""

from django.urls import include, path

from organizations.api import views

organization_patterns = [
    path("", views.OrganizationDetailView.as_view(), name="organization-detail"),
    path("archive/", views.OrganizationArchiveView.as_view(), name="organization-archive"),
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("members/<uuid:member_id>/", views.MemberDetailView.as_view(), name="member-detail"),
    path("invitations/", views.InvitationListView.as_view(), name="invitation-list"),
    path(
        "invitations/<uuid:invitation_id>/",
        views.InvitationDetailView.as_view(),
        name="invitation-detail",
    ),
    path(
        "invitations/<uuid:invitation_id>/resend/",
        views.InvitationResendView.as_view(),
        name="invitation-resend",
    ),
    path("folders/", views.FolderListView.as_view(), name="folder-list"),
    path("folders/<uuid:folder_id>/", views.FolderDetailView.as_view(), name="folder-detail"),
    path("folders/<uuid:folder_id>/move/", views.FolderMoveView.as_view(), name="folder-move"),
    path("audit-events/", views.AuditEventListView.as_view(), name="audit-event-list"),
    path("api-tokens/", views.ApiTokenListView.as_view(), name="token-list"),
    path("api-tokens/<uuid:token_id>/", views.ApiTokenDetailView.as_view(), name="token-detail"),
]

urlpatterns = [
    path("organizations/", views.OrganizationListView.as_view(), name="organization-list"),
    path("organizations/<uuid:organization_id>/", include(organization_patterns)),
]
