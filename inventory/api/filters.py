"""List filters. A filter given in the query must be valid: bad or empty values are a 400.

Every filter is declared on its FilterSet, which names no model (so none is derived from model
fields): the view's queryset says what is filtered.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.request import Request

from inventory.api.errors import ApiError
from inventory.api.fields import SKU_SCHEMA
from inventory.models import MovementKind, RestockStatus
from inventory.selectors import LOW_STOCK
from inventory.validators import validate_sku

if TYPE_CHECKING:
    from rest_framework.views import APIView


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that `?name=` (present but empty) is refused, not ignored."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = [n for n in filterset_class.base_filters if request.query_params.get(n) == ""]
            if empty:
                fields = {name: ["may not be empty"] for name in empty}
                raise ApiError(400, "invalid", f"{empty[0]}: may not be empty", fields)
        return super().filter_queryset(request, queryset, view)


class _BoolField(forms.Field):
    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise ValidationError("must be true or false", code="invalid")
        return value == "true"


@extend_schema_field(OpenApiTypes.BOOL)
class BoolFilter(django_filters.Filter):
    field_class = _BoolField


@extend_schema_field(SKU_SCHEMA)
class SkuFilter(django_filters.CharFilter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(field_name="item__sku", strip=False, validators=[validate_sku], **kwargs)


class AnyOfFilter(django_filters.CharFilter):
    """Text that matches a row when any of `lookups` does (the code or the name, say)."""

    def __init__(self, *lookups: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lookups = lookups

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(reduce(operator.or_, (Q(**{lookup: value}) for lookup in self.lookups)))


def _search(*fields: str, what: str) -> AnyOfFilter:
    """`?search=`: part of any of `fields`, in any case; `what` names them in the docs."""
    return AnyOfFilter(
        *(f"{field}__icontains" for field in fields),
        max_length=200,
        help_text=f"Part of the {what} (case-insensitive).",
    )


class ItemFilter(django_filters.FilterSet):
    search = _search("sku", "name", what="SKU or name")
    active = BoolFilter(field_name="active")
    low_stock = BoolFilter(
        method="filter_low_stock",
        help_text="Active items at or below their reorder point (or the rest).",
    )

    def filter_low_stock(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # The queryset is selectors.item_list_with_stock(), annotated as LOW_STOCK needs.
        return queryset.filter(LOW_STOCK if value else ~LOW_STOCK)


class LocationFilter(django_filters.FilterSet):
    search = _search("code", "name", what="code or name")


class MovementFilter(django_filters.FilterSet):
    sku = SkuFilter()
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    location = AnyOfFilter(
        "from_location__code",
        "to_location__code",
        max_length=32,
        help_text="A location code, as source or destination.",
    )
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")


class RestockFilter(django_filters.FilterSet):
    sku = SkuFilter()
    status = django_filters.ChoiceFilter(choices=RestockStatus.choices)
