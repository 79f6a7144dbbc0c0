"""Page-number pagination whose page size is capped; out-of-range paging input is a 400."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.paginator import InvalidPage
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from inventory.api.conf import api_settings
from inventory.api.errors import ApiError

if TYPE_CHECKING:
    from rest_framework.views import APIView


MAX_DIGITS = 9


def _positive_int(request: Request, name: str, default: int, maximum: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    limit = f" and at most {maximum}" if maximum else ""
    # At most MAX_DIGITS digits: a 5,000-digit number is refused before int() (which raises).
    digits = raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS
    if not digits or int(raw) < 1 or (maximum and int(raw) > maximum):
        raise ApiError(
            400,
            "invalid",
            f"{name}: must be a whole number from 1{limit}",
            {name: [f"must be a whole number from 1{limit}"]},
        )
    return int(raw)


class CappedPagination(PageNumberPagination):
    page_query_param = "page"
    page_size_query_param = "page_size"

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any]:
        conf = api_settings()
        size = _positive_int(request, "page_size", conf.PAGE_SIZE, conf.MAX_PAGE_SIZE)
        number = _positive_int(request, "page", 1, None)
        paginator = self.django_paginator_class(queryset, size)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise ApiError(404, "not_found", f"page {number} does not exist") from None
        self.request = request
        return list(self.page)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict]:
        conf = api_settings()
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "A page number (from 1).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Results per page (default {conf.PAGE_SIZE}, at most {conf.MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": conf.MAX_PAGE_SIZE},
            },
        ]
