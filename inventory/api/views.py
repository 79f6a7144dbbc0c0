"""REST endpoints: parse the request, call one service or selector, shape the response.

Errors raised here or by the core are turned into the shared error shape by
inventory.api.errors.api_exception_handler; no view builds an error body itself.
"""

import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters import FilterSet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services
from inventory.api import serializers as s
from inventory.api.errors import ApiError, documented
from inventory.api.fields import SKU_SCHEMA
from inventory.api.filters import ItemFilter, LocationFilter, MovementFilter, RestockFilter
from inventory.models import Item, Location, Restock
from inventory.validators import validate_sku

READ_ERRORS = (400, 401, 403, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 429)
IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,100}")
IDEMPOTENCY_PREFIX = "api:"  # keeps API keys apart from the core's own (e.g. restock-<id>)

SKU_PATH = OpenApiParameter("sku", SKU_SCHEMA, OpenApiParameter.PATH, required=True)
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=r"^[\x21-\x7e]{1,100}$",
    description="1-100 printable ASCII characters, unique per intended movement. A retry with "
    "the same key and body returns the original response; with another body, 409.",
)


def _parse(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _valid_sku(sku: str, field: str = "sku") -> str:
    try:
        return validate_sku(sku)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: exc.messages}) from None


def _item_row(sku: str) -> Item:
    """The item with on-hand and next restock, or 404.

    Not-found messages never echo the identifier, so every unknown resource (including one that
    exists only in another tenant) gets a byte-identical answer.
    """
    item = selectors.item_with_stock_get(sku=_valid_sku(sku))
    if item is None:
        raise ApiError(404, "not_found", "no item with this SKU")
    return item


def _item_ref(sku: str) -> Item:
    item = selectors.item_get(sku=sku)
    if item is None:
        raise ApiError(
            400, "invalid", "sku: no item with this SKU", {"sku": ["no item with this SKU"]}
        )
    return item


def _location_ref(code: str | None, field: str) -> Location | None:
    if code is None:
        return None
    location = selectors.location_get(code=code)
    if location is None:
        raise ApiError(
            400,
            "invalid",
            f"{field}: no location with this code",
            {field: ["no location with this code"]},
        )
    return location


def _actor(request: Request) -> str:
    return request.user.actor  # type: ignore[union-attr]


class _ListView(generics.ListAPIView):
    pass  # a paginated, filtered list; subclasses add `post` where the resource can be created


_View = TypeVar("_View", bound=type[generics.GenericAPIView])


def _listed(
    tag: str, serializer: type[serializers.Serializer], filterset: type[FilterSet]
) -> Callable[[_View], _View]:
    """A list view's serializer and filter, and the schema of its inherited `get` (`<tag>_list`).

    Named once here, so the view needs neither its own `get` nor the serializer twice.
    """

    def declare(view: _View) -> _View:
        view.serializer_class = serializer  # type: ignore[misc]
        view.filterset_class = filterset  # type: ignore[attr-defined]
        listed = documented(
            operation_id=f"{tag}_list",
            tags=[tag],
            responses={200: serializer(many=True)},
            errors=READ_ERRORS,
        )
        return extend_schema_view(get=listed)(view)

    return declare


def _creates(
    tag: str, request: type[serializers.Serializer], response: type[serializers.Serializer]
) -> Any:
    """The schema of a plain create (`<tag>_create`): one body in, the new resource out (201)."""
    return documented(
        operation_id=f"{tag}_create",
        tags=[tag],
        request=request,
        responses={201: response},
        errors=WRITE_ERRORS,
    )


def _retrieves_by_sku(tag: str, serializer: type[serializers.Serializer], **kwargs: Any) -> Any:
    """The schema of a read by SKU in the path (`<tag>_retrieve`)."""
    return documented(
        operation_id=f"{tag}_retrieve",
        tags=[tag],
        parameters=[SKU_PATH],
        responses={200: serializer},
        errors=READ_ERRORS,
        **kwargs,
    )


# --- Stock -----------------------------------------------------------------------------------


class StockView(APIView):
    @_retrieves_by_sku(
        "stock", s.StockSerializer, summary="What is in stock for a SKU (found: false when unknown)"
    )
    def get(self, request: Request, sku: str) -> Response:
        # One statement for the total and the locations; already in StockSerializer's shape.
        return Response(selectors.stock_answer(sku=_valid_sku(sku), by_location=True))


# --- Items -----------------------------------------------------------------------------------


@_listed("items", s.ItemSerializer, ItemFilter)
class ItemListCreateView(_ListView):
    def get_queryset(self) -> QuerySet[Item]:
        return selectors.item_list_with_stock()

    @_creates("items", s.ItemCreateSerializer, s.ItemSerializer)
    def post(self, request: Request) -> Response:
        item = services.item_create(**_parse(s.ItemCreateSerializer, request))
        return Response(s.ItemSerializer(_item_row(item.sku)).data, status=status.HTTP_201_CREATED)


class ItemDetailView(APIView):
    @_retrieves_by_sku("items", s.ItemSerializer)
    def get(self, request: Request, sku: str) -> Response:
        return Response(s.ItemSerializer(_item_row(sku)).data)

    @documented(
        operation_id="items_update",
        tags=["items"],
        parameters=[SKU_PATH],
        request=s.ItemUpdateSerializer,
        responses={200: s.ItemSerializer},
        errors=WRITE_ERRORS,
    )
    def patch(self, request: Request, sku: str) -> Response:
        item = _item_row(sku)
        services.item_update(item=item, **_parse(s.ItemUpdateSerializer, request))
        return Response(s.ItemSerializer(_item_row(sku)).data)


# --- Locations -------------------------------------------------------------------------------


@_listed("locations", s.LocationSerializer, LocationFilter)
class LocationListCreateView(_ListView):
    queryset = selectors.location_list()

    @_creates("locations", s.LocationSerializer, s.LocationSerializer)
    def post(self, request: Request) -> Response:
        location = services.location_create(**_parse(s.LocationSerializer, request))
        return Response(s.LocationSerializer(location).data, status=status.HTTP_201_CREATED)


# --- Movements -------------------------------------------------------------------------------


def _idempotency_key(request: Request) -> str:
    """The stored key: the client's key in the calling token's namespace (api:<prefix>:<key>).

    Scoped to the token, so another token of the same tenant using the same key records its own
    movement instead of replaying the first token's (and learning its name from the actor).
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise ApiError(
            400,
            "idempotency_key_required",
            "an Idempotency-Key header is required to record a movement",
            {"Idempotency-Key": ["this header is required"]},
        )
    if not IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ApiError(
            400,
            "invalid",
            "Idempotency-Key: must be 1-100 printable ASCII characters",
            {"Idempotency-Key": ["must be 1-100 printable ASCII characters"]},
        )
    return f"{IDEMPOTENCY_PREFIX}{request.user.token.prefix}:{key}"  # type: ignore[union-attr]


@_listed("movements", s.MovementSerializer, MovementFilter)
class MovementListCreateView(_ListView):
    queryset = selectors.movement_list()

    @documented(
        operation_id="movements_create",
        tags=["movements"],
        parameters=[IDEMPOTENCY_HEADER],
        request=s.MovementCreateSerializer,
        responses={
            201: OpenApiResponse(
                s.MovementSerializer, description="Recorded (or replayed: same key and body)."
            ),
        },
        errors=WRITE_ERRORS,
        summary="Record a movement; the ledger's actor is token:<prefix>:<name>",
    )
    def post(self, request: Request) -> Response:
        key = _idempotency_key(request)
        data = _parse(s.MovementCreateSerializer, request)
        result = services.movement_record(
            kind=data["kind"],
            item=_item_ref(data["sku"]),
            quantity=data["quantity"],
            from_location=_location_ref(data.get("from_location"), "from_location"),
            to_location=_location_ref(data.get("to_location"), "to_location"),
            reason=data.get("reason", ""),
            actor=_actor(request),
            idempotency_key=key,
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return Response(
            s.MovementSerializer(result.movement).data,
            status=status.HTTP_201_CREATED,
            headers=headers,
        )


# --- Restocks --------------------------------------------------------------------------------


def _restock(pk: int) -> Restock:
    restock = selectors.restock_get(pk=pk)
    if restock is None:
        raise ApiError(404, "not_found", "no restock with this id")
    return restock


@_listed("restocks", s.RestockSerializer, RestockFilter)
class RestockListCreateView(_ListView):
    queryset = selectors.restock_list()

    @_creates("restocks", s.RestockCreateSerializer, s.RestockSerializer)
    def post(self, request: Request) -> Response:
        data = _parse(s.RestockCreateSerializer, request)
        restock = services.restock_create(
            item=_item_ref(data["sku"]),
            quantity=data["quantity"],
            expected_date=data["expected_date"],
            location=_location_ref(data.get("location"), "location"),
        )
        return Response(
            s.RestockSerializer(_restock(restock.pk)).data, status=status.HTTP_201_CREATED
        )


class RestockReceiveView(APIView):
    @documented(
        operation_id="restocks_receive",
        tags=["restocks"],
        request=s.RestockReceiveSerializer,
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, required=True)],
        responses={
            200: OpenApiResponse(
                s.RestockSerializer, description="Received (again: the same receipt)."
            ),
        },
        errors=WRITE_ERRORS,
        summary="Receive a restock: records a receipt movement",
    )
    def post(self, request: Request, id: int) -> Response:  # noqa: A002 - the URL's name
        restock = _restock(id)
        data = _parse(s.RestockReceiveSerializer, request)
        services.restock_receive(
            restock=restock,
            actor=_actor(request),
            location=_location_ref(data.get("location"), "location"),
        )
        return Response(s.RestockSerializer(_restock(id)).data)
