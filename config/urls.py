from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views
from licensing import views_systems as licensing_views_systems

# Staff must pass a second factor to open the admin.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "camfleet admin"
admin.site.site_title = "camfleet admin"

# Every app's API routes share the "api" namespace: names read api:<model>-<view>.
api_patterns = [
    path("", include("organizations.api.urls")),
    path("organizations/<uuid:organization_id>/devices/", include("devices.api.urls")),
    path("organizations/<uuid:organization_id>/licensing/", include("licensing.api.urls")),
    path("servers/", include("devices.servers.api_urls")),
    path("organizations/<uuid:organization_id>/", include("upgrades.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False)),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("healthz", views.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("", include("organizations.urls")),
    path("o/<uuid:organization_id>/devices/", include("devices.urls")),
    path("o/<uuid:organization_id>/servers/", include("devices.servers.urls")),
    path("o/<uuid:organization_id>/upgrades/", include("upgrades.urls")),
    path("o/<uuid:organization_id>/licensing/", include("licensing.urls")),
    # Public: offline systems verify their license files with this key (README, Licensing).
    path(
        "licensing/public-key.pem",
        licensing_views_systems.public_key,
        name="license-public-key",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"))),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script is served as a file (?script), not inline: the CSP forbids that.
    path(
        "api/v1/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
