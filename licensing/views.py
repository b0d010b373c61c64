"""Licensing pages under /o/<organization_id>/licensing/ (PRODUCT.md §8).

Organization admins and owners see and use them (`Action.LICENSE_MANAGE`); for operators and
viewers they do not exist (404), as the licenses are none of their business. Reads go through
`licensing.selectors`, every change through `licensing.services`; moving licenses takes two
steps (review, then confirm), and the confirmation carries an idempotency key, so a double
click or a resent form moves licenses once.
"""

import csv
import uuid
from collections.abc import Callable, Iterator
from functools import wraps
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.selectors import country_of
from common.countries import country_codes, country_name
from common.errors import DomainError, NotFound
from common.forms import apply_domain_error, form_status
from common.spreadsheet import Echo, safe_cell
from common.templatetags.when import format_when
from licensing import rules, selectors, selectors_systems, services
from licensing.forms import (
    AllocateForm,
    CountryForm,
    HistoryFilterForm,
    RedeemForm,
    StartForm,
    TransferConfirmForm,
    TransferCountForm,
    TransferTargetForm,
)
from licensing.models import LedgerAccount, LedgerTransaction, LicenseKind
from organizations import access
from organizations.models import Membership
from organizations.roles import Action
from organizations.tenancy import organization_view

HISTORY_PAGE_SIZE = 50
HISTORY_EXPORT_CHUNK = 500


def licensing_view(*methods: str) -> Callable[[Callable[..., HttpResponse]], Callable]:
    """Wrap a licensing page: members who may not manage licenses get 404, before any 405."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @organization_view
        @wraps(view)
        def wrapper(request: HttpRequest, organization_id: UUID, *args, **kwargs) -> HttpResponse:
            if not access.can(request.membership, Action.LICENSE_MANAGE):
                raise NotFound("not_found", _("Not found."))
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, organization_id, *args, **kwargs)

        return wrapper

    return decorate


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def _product_status(membership: Membership, product_code: str) -> selectors.ProductStatus:
    product = selectors.get_product(product_code)
    return selectors.product_status(membership, product, services.today())


# --- Products ---------------------------------------------------------------------------------


@licensing_view("GET")
def product_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Licensing → Products: each product's trial, subscription and license status."""
    membership = request.membership
    context = {
        "statuses": selectors.product_statuses(membership, services.today()),
        # Hardware and offline systems hold licenses of their own (System setup).
        "systems": selectors_systems.systems(membership),
        "tab": "products",
    }
    return render(request, "licensing/product_list.html", context)


@licensing_view("GET")
def reseller_list(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Where to buy licenses: resellers serving the person's country (or the one they choose)."""
    country = request.GET.get("country", "")
    if country not in country_codes():
        country = country_of(request.user)
    form = CountryForm(initial={"country": country})
    context = {
        "form": form,
        "country": country,
        "country_name": country_name(country),
        "resellers": selectors.resellers(country) if country else [],
        "tab": "products",
    }
    return render(request, "licensing/reseller_list.html", context)


@licensing_view("GET")
def product_detail(request: HttpRequest, organization_id: UUID, product_code: str) -> HttpResponse:
    """A product's overview: its trial and subscription, and how to start them."""
    membership = request.membership
    status = _product_status(membership, product_code)
    context = {
        "status": status,
        "product": status.product,
        "product_tab": "overview",
        "redeem_form": RedeemForm(initial={"product": status.product.code}),
        "wallet": selectors.wallet_count(membership, status.product, LicenseKind.SUBSCRIPTION),
    }
    return render(request, "licensing/product_detail.html", context)


@licensing_view("GET", "POST")
def product_start(request: HttpRequest, organization_id: UUID, product_code: str) -> HttpResponse:
    """Start a trial or the subscription: a confirmation that shows the grace period it opens."""
    membership = request.membership
    status = _product_status(membership, product_code)
    form = StartForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        raise NotFound("not_found", _("Not found."))
    kind = form.cleaned_data["kind"]
    if request.method == "POST":
        try:
            services.start_product(actor=membership, product_code=product_code, kind=kind)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            if kind == "trial":
                message = _("The trial of %(product)s has started.")
            else:
                message = _("The subscription of %(product)s has started.")
            messages.success(request, message % {"product": status.product.name})
            return redirect("licensing:product-detail", organization_id, product_code)
    today = services.today()
    context = {
        "status": status,
        "product": status.product,
        "product_tab": "overview",
        "form": form,
        "kind": kind,
        "starts_on": today,
        "grace_period_ends_on": rules.grace_period_end(today),
        "grace_period_days": rules.GRACE_PERIOD_DAYS,
    }
    return render(request, "licensing/product_start.html", context, status=form_status(form))


# --- Allocating -------------------------------------------------------------------------------


@licensing_view("GET", "POST")
def product_licensing(
    request: HttpRequest, organization_id: UUID, product_code: str
) -> HttpResponse:
    """Licensing of a product: need, years, growth; allocate after reviewing what it does."""
    membership = request.membership
    status = _product_status(membership, product_code)
    years = selectors.allocation_years(membership, status)
    wallet = selectors.wallet_count(membership, status.product, LicenseKind.SUBSCRIPTION)
    to_allocate_now = max(status.short_by, status.growth_excess)
    form = AllocateForm(
        _posted(request),
        years=[year.year for year in years],
        initial={"year": status.year, "count": to_allocate_now or None},
    )
    preview = None
    if request.method == "POST" and not status.is_subscribed:
        form.add_error(None, _("Start the subscription before allocating licenses."))
        form.error_status = 409
    elif request.method == "POST" and form.is_valid():
        year, count = form.cleaned_data["year"], form.cleaned_data["count"]
        key = form.cleaned_data["idempotency_key"]
        if "confirm" in request.POST and key is not None:
            try:
                allocation = services.allocate_licenses(
                    actor=membership,
                    product_code=product_code,
                    year=year,
                    count=count,
                    idempotency_key=key,
                )
            except DomainError as error:
                apply_domain_error(form, error, "count")
            else:
                _say_allocated(request, allocation, year, count)
                return redirect("licensing:product-licensing", organization_id, product_code)
        else:
            preview = selectors.allocation_preview(membership, status, year=year, count=count)
            # Confirming carries this key: a second click returns the first allocation.
            form = AllocateForm(
                {"year": year, "count": count, "idempotency_key": uuid.uuid4()},
                years=[item.year for item in years],
            )
            form.is_valid()
    context = {
        "status": status,
        "product": status.product,
        "product_tab": "licensing",
        "years": years,
        "wallet": wallet,
        "to_allocate_now": to_allocate_now,
        "growth_allowance": rules.growth_allowance(status.allocated),
        "wallet_short_of_need": status.is_subscribed and wallet < status.short_by,
        "form": form,
        "preview": preview,
    }
    return render(request, "licensing/product_licensing.html", context, status=form_status(form))


def _say_allocated(request: HttpRequest, allocation: services.Allocation, year: int, count: int):
    message = ngettext(
        "%(count)d license allocated to year %(year)d.",
        "%(count)d licenses allocated to year %(year)d.",
        count,
    ) % {"count": count, "year": year}
    credited = allocation.compensation.licenses
    if credited:
        message += " " + ngettext(
            "%(count)d license credited to the wallet as compensation.",
            "%(count)d licenses credited to the wallet as compensation.",
            credited,
        ) % {"count": credited}
    messages.success(request, message)


# --- Wallet and redeeming ---------------------------------------------------------------------


@licensing_view("GET", "POST")
def wallet(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Wallet: unallocated licenses per product and kind with their expiry dates; redeem a key.

    A key redeemed from a product's page must be of that product (`product` in the form).
    """
    membership = request.membership
    form = RedeemForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        product_code = form.cleaned_data["product"] or None
        try:
            movement = services.redeem_license_key(
                actor=membership, key=form.cleaned_data["key"], product_code=product_code
            )
        except DomainError as error:
            apply_domain_error(form, error, "key")
        else:
            count = movement.data.get("count", 0)
            messages.success(
                request,
                ngettext(
                    "Key redeemed: %(count)d license of %(product)s is in the wallet.",
                    "Key redeemed: %(count)d licenses of %(product)s are in the wallet.",
                    count,
                )
                % {"count": count, "product": movement.product.name},
            )
            if product_code:
                return redirect("licensing:product-detail", organization_id, product_code)
            return redirect("licensing:wallet", organization_id)
    context = {
        "lines": selectors.wallet(membership),
        "form": form,
        "tab": "wallet",
        "kind_labels": dict(LicenseKind.choices),
    }
    return render(request, "licensing/wallet.html", context, status=form_status(form))


# --- Transfers --------------------------------------------------------------------------------


@licensing_view("GET", "POST")
def product_transfer(
    request: HttpRequest, organization_id: UUID, product_code: str
) -> HttpResponse:
    """Transfer wallet licenses: count → target organization → summary → confirm.

    Each step posts what the earlier ones chose again (hidden), so nothing is kept between
    requests; the service checks everything once more when the transfer is confirmed.
    """
    membership = request.membership
    status = _product_status(membership, product_code)
    product = status.product
    targets = selectors.transfer_targets(membership)
    posted = _posted(request)
    step = request.POST.get("step", "") if posted is not None else ""
    count_form = TransferCountForm(posted, product=product)
    target_form = TransferTargetForm(
        posted if step in ("summary", "confirm") else None, targets=targets
    )
    confirm_form = TransferConfirmForm(posted if step == "confirm" else None)
    wallet = None
    shown = "count"
    target = None
    if posted is not None and count_form.is_valid():
        license_kind = count_form.cleaned_data["license_kind"]
        wallet = selectors.wallet_count(membership, product, license_kind)
        # Said at once rather than at the end; the service refuses it again if still true.
        if count_form.cleaned_data["count"] > wallet:
            count_form.add_error(
                "count",
                ngettext(
                    "The wallet holds only %(held)d license of this kind.",
                    "The wallet holds only %(held)d licenses of this kind.",
                    wallet,
                )
                % {"held": wallet},
            )
            count_form.error_status = 409
        else:
            shown = "count" if step == "count" else "target"
        if shown == "target" and step in ("summary", "confirm") and target_form.is_valid():
            target_id = target_form.cleaned_data["target_organization"]
            target = next(org for org in targets if str(org.pk) == target_id)
            shown = "summary"
        if shown == "summary" and step == "confirm" and confirm_form.is_valid():
            try:
                transfer = services.transfer_licenses(
                    actor=membership,
                    product_code=product_code,
                    target_organization_id=target_id,
                    count=count_form.cleaned_data["count"],
                    license_kind=license_kind,
                    idempotency_key=confirm_form.cleaned_data["idempotency_key"],
                )
            except DomainError as error:
                apply_domain_error(confirm_form, error)
            else:
                _say_transferred(request, transfer, count_form.cleaned_data["count"], target)
                return redirect("licensing:product-detail", organization_id, product_code)
        if shown == "summary" and not confirm_form.is_bound:
            confirm_form = TransferConfirmForm(initial={"idempotency_key": uuid.uuid4()})
    errors = [form for form in (count_form, target_form, confirm_form) if form.is_bound]
    context = {
        "status": status,
        "product": product,
        "product_tab": "transfer",
        "targets": targets,
        "step": shown,
        "count_form": count_form,
        "target_form": target_form,
        "confirm_form": confirm_form,
        "target": target,
        "target_is_pending": target is not None and not selectors.has_started(target, product),
        "wallet": wallet,
    }
    answer = max((form_status(form) for form in errors), default=200)
    return render(request, "licensing/product_transfer.html", context, status=answer)


def _say_transferred(request: HttpRequest, transfer: services.Transfer, count: int, target):
    values = {"count": count, "organization": target.name}
    if transfer.is_pending:
        message = ngettext(
            "%(count)d license is waiting for %(organization)s: it lands in its wallet when it "
            "starts a trial or subscription of this product.",
            "%(count)d licenses are waiting for %(organization)s: they land in its wallet when "
            "it starts a trial or subscription of this product.",
            count,
        )
    else:
        message = ngettext(
            "%(count)d license transferred to %(organization)s.",
            "%(count)d licenses transferred to %(organization)s.",
            count,
        )
    messages.success(request, message % values)


# --- History ----------------------------------------------------------------------------------


def _filtered_history(request: HttpRequest, membership: Membership):
    form = HistoryFilterForm(request.GET or None, products=list(selectors.active_products()))
    if form.is_bound and not form.is_valid():
        return form, selectors.history(membership).none()
    filters = form.cleaned_data if form.is_bound else {}
    movements = selectors.history(
        membership,
        kind=filters.get("kind", ""),
        product_code=filters.get("product", ""),
        since=filters.get("since"),
        until=filters.get("until"),
    ).prefetch_related("entries__account")
    return form, movements


def _account_label(label: str) -> str:
    """Return "wallet" or "subscription_year:2" (from `selectors.own_change`) in words."""
    kind, _sep, year = label.partition(":")
    words = str(LedgerAccount.Kind(kind).label) if kind in LedgerAccount.Kind.values else kind
    return f"{words} {year}" if year else words


def _changes(movement: LedgerTransaction, organization_id: UUID) -> list[tuple[str, int]]:
    changes = selectors.own_change(movement, organization_id)
    return [(_account_label(label), amount) for label, amount in changes.items()]


@licensing_view("GET")
def history(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """History: every redemption, allocation, compensation, expiry, transfer and void."""
    membership = request.membership
    form, movements = _filtered_history(request, membership)
    page = Paginator(movements, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(movement, _changes(movement, organization_id)) for movement in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "tab": "history",
    }
    return render(request, "licensing/history.html", context, status=form_status(form))


@licensing_view("GET")
def history_export(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """The filtered history as a CSV file, streamed; an invalid filter goes back to the page."""
    membership = request.membership
    form, movements = _filtered_history(request, membership)
    if form.errors:
        url = reverse("licensing:history", args=[organization_id])
        return redirect(f"{url}?{request.GET.urlencode()}")
    # The answer streams after the view returns: keep the person's language and time zone.
    language, zone = translation.get_language(), timezone.get_current_timezone()

    def rows() -> Iterator[str]:
        writer = csv.writer(Echo())
        with translation.override(language), timezone.override(zone):
            yield writer.writerow(
                [_("When"), _("What"), _("Product"), _("Licenses"), _("Who"), _("Change"), "ID"]
            )
            for movement in movements.iterator(chunk_size=HISTORY_EXPORT_CHUNK):
                change = "; ".join(
                    f"{label} {amount:+d}" for label, amount in _changes(movement, organization_id)
                )
                yield writer.writerow(
                    safe_cell(value)
                    for value in (
                        format_when(movement.created_at),
                        movement.get_kind_display(),
                        movement.product.name,
                        movement.data.get("count", ""),
                        movement.actor_label,
                        change,
                        movement.pk,
                    )
                )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    filename = f"license-history-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
