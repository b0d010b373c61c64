"""Page numbers for long lists: the API's (its own module: DRF imports it while drf-spectacular
imports DRF) and a paginator that counts exactly only up to a limit."""

import json
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.response import Response

# Up to this many rows a list counts them; past it, PostgreSQL's estimate is "about N".
EXACT_COUNT_LIMIT = 10_000


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers, except that an empty `?page=` is not a page (DRF read it as page 1)."""

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        page_number = request.query_params.get(self.page_query_param, 1)
        if page_number in self.last_page_strings:
            page_number = paginator.num_pages
        return page_number


def about(number: int) -> int:
    """Round to two significant digits: 7,997 → 8,000; 123,456 → 120,000."""
    return round(number, 2 - len(str(abs(number)))) if number >= 100 else number


class EstimatedPage(Page):
    """A page that knows whether another follows from one row more, when the count is estimated."""

    followed: bool | None = None

    def has_next(self) -> bool:
        return super().has_next() if self.followed is None else self.followed


class EstimatedCountPaginator(Paginator):
    """Django's paginator, counting at most `EXACT_COUNT_LIMIT` rows of `queryset`.

    An exact COUNT reads every matching row, on every page: tens of thousands for a large fleet.
    Up to the limit the count is exact (the COUNT stops reading at the limit); past it, on
    PostgreSQL, it is the planner's estimate rounded (`about`), which costs a plan rather than
    a scan, and `count_is_exact` is False. Then no page is refused for being past the estimated
    end (an empty page is simply empty), and each page reads one row more to know whether a next
    one follows, so every row stays reachable however wrong the estimate.

    `queryset` is what to count when `object_list` is not a queryset (django-tables2 pages its
    rows); by default `object_list` itself.
    """

    def __init__(self, object_list, per_page, *args, queryset=None, **kwargs) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.queryset = object_list if queryset is None else queryset

    @cached_property
    def count(self) -> int:
        queryset = self.queryset.order_by()
        counted = queryset[: EXACT_COUNT_LIMIT + 1].count()
        self._count_is_exact = counted <= EXACT_COUNT_LIMIT
        if self._count_is_exact:
            return counted
        if connections[queryset.db].vendor != "postgresql":
            self._count_is_exact = True
            return queryset.count()
        plan = json.loads(queryset.explain(format="json"))
        return about(max(int(plan[0]["Plan"]["Plan Rows"]), counted))

    @property
    def count_is_exact(self) -> bool:
        self.count  # noqa: B018 - counting decides it
        return self._count_is_exact

    def validate_number(self, number) -> int:
        if self.count_is_exact:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number) -> Page:
        number = self.validate_number(number)
        if self.count_is_exact:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        page = self._get_page(rows[: self.per_page], number, self)
        page.followed = len(rows) > self.per_page
        return page

    def _get_page(self, *args, **kwargs) -> EstimatedPage:
        return EstimatedPage(*args, **kwargs)


class EstimatedCountPagination(PageNumberPagination):
    """The API's page numbers over `EstimatedCountPaginator`: `count_exact` says which count."""

    django_paginator_class = EstimatedCountPaginator

    def get_paginated_response(self, data) -> Response:
        response = super().get_paginated_response(data)
        response.data["count_exact"] = self.page.paginator.count_is_exact
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count"]["description"] = (
            f"Exact up to {EXACT_COUNT_LIMIT}; above, an estimate (see count_exact)."
        )
        paginated["properties"]["count_exact"] = {
            "type": "boolean",
            "description": "False when count is an estimate, rounded to two significant "
            "digits. Follow next to read every item either way.",
        }
        paginated["required"].append("count_exact")
        return paginated
