"""Licensing pages, mounted at /o/<organization_id>/licensing/ in the `licensing` namespace."""

from django.urls import path

from licensing import views

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
]
