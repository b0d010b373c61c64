"""Licensing API routes, mounted at /api/v1/organizations/<organization_id>/licensing/."""

from django.urls import path

from licensing.api import systems, views

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="license-product-list"),
    path(
        "products/<slug:product_code>/start",
        views.ProductStartView.as_view(),
        name="license-product-start",
    ),
    path(
        "products/<slug:product_code>/allocate",
        views.AllocateView.as_view(),
        name="license-product-allocate",
    ),
    path(
        "products/<slug:product_code>/transfer",
        views.TransferView.as_view(),
        name="license-product-transfer",
    ),
    path("redeem", views.RedeemView.as_view(), name="license-redeem"),
    path("wallet/", views.WalletView.as_view(), name="license-wallet"),
    path("history/", views.HistoryView.as_view(), name="license-history"),
    # System setup (licensing/api/systems.py): hardware and offline systems, upgrade licenses.
    path(
        "hardware-models/",
        systems.HardwareModelListView.as_view(),
        name="license-hardware-model-list",
    ),
    path("systems/", systems.SystemListView.as_view(), name="license-system-list"),
    path(
        "systems/<uuid:system_id>/",
        systems.SystemDetailView.as_view(),
        name="license-system-detail",
    ),
    path(
        "systems/<uuid:system_id>/allocate",
        systems.SystemAllocateView.as_view(),
        name="license-system-allocate",
    ),
    path(
        "systems/<uuid:system_id>/license-file",
        systems.LicenseFileView.as_view(),
        name="license-system-license-file",
    ),
    path("system-files", systems.SystemFileUploadView.as_view(), name="license-system-file-upload"),
    path(
        "upgrade-licenses/",
        systems.UpgradeListView.as_view(),
        name="license-upgrade-list",
    ),
    path(
        "upgrade-licenses/apply",
        systems.ApplyUpgradeView.as_view(),
        name="license-upgrade-apply",
    ),
]
