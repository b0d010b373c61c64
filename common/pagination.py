"""The API's page numbers (its own module: DRF imports it while drf-spectacular imports DRF)."""

from typing import Any

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers, except that an empty `?page=` is not a page (DRF read it as page 1)."""

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        page_number = request.query_params.get(self.page_query_param, 1)
        if page_number in self.last_page_strings:
            page_number = paginator.num_pages
        return page_number
