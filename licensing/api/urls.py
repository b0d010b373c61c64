"""Licensing API routes, mounted at /api/v1/organizations/<organization_id>/licensing/."""

from django.urls import path

from licensing.api import views

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
]
