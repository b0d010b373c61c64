"""The licensing API under /api/v1/organizations/<organization_id>/licensing/ (admin+).

Reads go through `licensing.selectors`, writes through `licensing.services`; refusals answer
with the stable error body (`key_invalid`, `key_used`, `insufficient_licenses`,
`not_admin_of_target`, …). Moving POSTs accept an `Idempotency-Key` header (a UUID): repeating
the request with it returns the first result instead of moving licenses again.
"""

import csv
import io
import uuid
from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import Invalid
from common.spreadsheet import safe_cell
from licensing import selectors, services
from licensing.api import serializers
from organizations.api.base import OrganizationAPIView
from organizations.roles import Action

ERRORS = {
    400: OpenApiResponse(description="Invalid input: {error: {code, message, fields}}"),
    403: OpenApiResponse(description="Not allowed for this role (admin+), or not admin of both."),
    404: OpenApiResponse(description="Not found, or outside the caller's reach."),
    409: OpenApiResponse(description="Refused by a rule, e.g. insufficient_licenses, key_used."),
    429: OpenApiResponse(description="Too many wrong license keys: key_throttled."),
}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="A UUID; repeating a request with it returns the first result.",
)


def _input(serializer_class: type, data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _idempotency_key(request: Request) -> UUID | None:
    value = request.headers.get("Idempotency-Key")
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(
            "invalid_idempotency_key", _("The Idempotency-Key header must be a UUID.")
        ) from None


class LicensingAPIView(OrganizationAPIView):
    """Every licensing route needs admin+ (PRODUCT.md §3: licenses)."""

    required_actions = {"GET": Action.LICENSE_MANAGE, "POST": Action.LICENSE_MANAGE}


class ProductListView(LicensingAPIView):
    """License status per product: started, year, grace period, need, allocated, growth."""

    serializer_class = serializers.ProductStatusSerializer
    pagination_class = None

    @extend_schema(
        operation_id="licensing_products_list",
        responses={200: serializers.ProductStatusSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        on = services.today()
        statuses = [
            selectors.product_status(request.membership, product, on)
            for product in selectors.active_products()
        ]
        return Response(self.get_serializer(statuses, many=True).data)


class ProductStartView(LicensingAPIView):
    """Start a trial or the subscription of a product; waiting transfers land now."""

    serializer_class = serializers.ProductStatusSerializer

    @extend_schema(
        request=serializers.StartSerializer,
        responses={200: serializers.ProductStatusSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID, product_code: str) -> Response:
        data = _input(serializers.StartSerializer, request.data)
        services.start_product(
            actor=request.membership, product_code=product_code, kind=data["kind"]
        )
        product = selectors.get_product(product_code)
        body = selectors.product_status(request.membership, product, services.today())
        return Response(self.get_serializer(body).data)


class RedeemView(LicensingAPIView):
    """Redeem a license key: all its licenses go to the wallet (throttled against guessing)."""

    serializer_class = serializers.MovementSerializer

    @extend_schema(
        request=serializers.RedeemSerializer,
        responses={201: serializers.MovementSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        data = _input(serializers.RedeemSerializer, request.data)
        movement = services.redeem_license_key(
            actor=request.membership, key=data["key"], product_code=data.get("product")
        )
        return Response(self.get_serializer(movement).data, status=status.HTTP_201_CREATED)


class AllocateView(LicensingAPIView):
    """Allocate wallet licenses to a subscription year (up to five years ahead)."""

    serializer_class = serializers.AllocationSerializer

    @extend_schema(
        request=serializers.AllocateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: serializers.AllocationSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID, product_code: str) -> Response:
        data = _input(serializers.AllocateSerializer, request.data)
        allocation = services.allocate_licenses(
            actor=request.membership,
            product_code=product_code,
            year=data["year"],
            count=data["count"],
            idempotency_key=_idempotency_key(request),
        )
        return Response(self.get_serializer(allocation).data, status=status.HTTP_201_CREATED)


class TransferView(LicensingAPIView):
    """Transfer unused wallet licenses to another organization where the caller is admin too."""

    serializer_class = serializers.TransferResultSerializer

    @extend_schema(
        request=serializers.TransferSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: serializers.TransferResultSerializer, **ERRORS},
    )
    def post(self, request: Request, organization_id: UUID, product_code: str) -> Response:
        data = _input(serializers.TransferSerializer, request.data)
        transfer = services.transfer_licenses(
            actor=request.membership,
            product_code=product_code,
            target_organization_id=data["target_organization"],
            count=data["count"],
            license_kind=data["license_kind"],
            idempotency_key=_idempotency_key(request),
        )
        return Response(self.get_serializer(transfer).data, status=status.HTTP_201_CREATED)


class WalletView(LicensingAPIView):
    """The wallet: counts per product and kind, with the expiry date of each lot."""

    serializer_class = serializers.WalletLineSerializer
    pagination_class = None

    @extend_schema(
        operation_id="licensing_wallet_list",
        responses={200: serializers.WalletLineSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        lines = selectors.wallet(request.membership)
        return Response(self.get_serializer(lines, many=True).data)


class CsvRenderer(renderers.BaseRenderer):
    """Render a list of flat rows as CSV (`?format=csv`), columns from the view's `csv_columns`.

    Errors and OPTIONS never reach it: the view answers them in JSON.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        view = (renderer_context or {}).get("view")
        columns = getattr(view, "csv_columns", None) or (list(data[0]) if data else [])
        output = io.StringIO()
        # The header row always: an export with no rows still says what it would hold.
        writer = csv.DictWriter(output, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in data:
            writer.writerow({key: safe_cell(value) for key, value in row.items()})
        return output.getvalue().encode(self.charset)


class HistoryView(LicensingAPIView):
    """Every redemption, allocation, compensation, expiry, transfer and void; `?format=csv`."""

    serializer_class = serializers.HistoryItemSerializer
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]
    csv_columns = ("at", "kind", "product", "count", "by", "organization", "change", "id")

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Only the export is CSV: errors (the API's error body) and OPTIONS stay JSON.
        if isinstance(response, Response) and not isinstance(response.data, list):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    def get_serializer_context(self) -> dict:
        return {
            **super().get_serializer_context(),
            "organization_id": self.request.membership.organization_id,
        }

    @extend_schema(
        operation_id="licensing_history_list",
        parameters=[serializers.HistoryFilterSerializer],
        responses={200: serializers.HistoryItemSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        query = {k: v for k, v in request.query_params.items() if k != "format"}
        filters = _input(serializers.HistoryFilterSerializer, query)
        movements = selectors.history(
            request.membership,
            kind=filters.get("kind", ""),
            product_code=filters.get("product", ""),
            since=filters.get("since"),
            until=filters.get("until"),
        ).prefetch_related("entries__account")
        if request.accepted_renderer.format == "csv":
            rows = [
                {
                    "at": item["created_at"],
                    "kind": item["kind"],
                    "product": item["product"],
                    "count": item["count"],
                    "by": item["by"],
                    "organization": item["organization"],
                    "change": " ".join(f"{k}={v:+d}" for k, v in item["change"].items()),
                    "id": item["id"],
                }
                for item in self.get_serializer(movements, many=True).data
            ]
            response = Response(rows)
            response["Content-Disposition"] = 'attachment; filename="license-history.csv"'
            return response
        page = self.paginate_queryset(movements)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
