"""Licensing pages, mounted at /o/<organization_id>/licensing/ in the `licensing` namespace."""

from django.urls import path

from licensing import views, views_systems

app_name = "licensing"

urlpatterns = [
    path("", views.product_list, name="product-list"),
    path("resellers/", views.reseller_list, name="reseller-list"),
    path("wallet/", views.wallet, name="wallet"),
    path("history/", views.history, name="history"),
    path("history/export/", views.history_export, name="history-export"),
    path("products/<slug:product_code>/", views.product_detail, name="product-detail"),
    path("products/<slug:product_code>/start/", views.product_start, name="product-start"),
    path(
        "products/<slug:product_code>/licensing/",
        views.product_licensing,
        name="product-licensing",
    ),
    path("products/<slug:product_code>/transfer/", views.product_transfer, name="product-transfer"),
    # System setup (licensing/views_systems.py).
    path("systems/", views_systems.system_list, name="system-list"),
    path("systems/upload/", views_systems.system_file_upload, name="system-file-upload"),
    path("systems/<uuid:system_id>/", views_systems.system_detail, name="system-detail"),
    path(
        "systems/<uuid:system_id>/allocate/",
        views_systems.system_allocate,
        name="system-allocate",
    ),
    path(
        "systems/<uuid:system_id>/license-file/",
        views_systems.system_license_file,
        name="system-license-file",
    ),
    path("upgrades/", views_systems.upgrade_list, name="upgrade-list"),
]
