"""Input serializers parse and check request bodies; output serializers shape responses.

They hold no business rules: those live in inventory.services (called by the views).
"""

from typing import Any

from django.db import models
from rest_framework import serializers

from inventory.api.fields import (
    MAX_QUANTITY,
    SkuField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    quantity_field,
)
from inventory.models import Item, Location, Movement, MovementKind, Restock


def _max(model: type[models.Model], field: str) -> int:
    return int(model._meta.get_field(field).max_length)  # type: ignore[union-attr,arg-type]


def _location_code(**kwargs: Any) -> StrictCharField:
    return StrictCharField(max_length=_max(Location, "code"), **kwargs)


def _code_of(relation: str) -> serializers.CharField:
    """The code of a related location, or null."""
    return serializers.CharField(source=f"{relation}.code", read_only=True, allow_null=True)


def _reject(data: object, names: tuple[str, ...], why: str) -> None:
    present = [n for n in names if isinstance(data, dict) and n in data]
    if present:
        raise serializers.ValidationError({n: [why] for n in present})


# --- Items -----------------------------------------------------------------------------------


class ItemSerializer(serializers.ModelSerializer):
    on_hand = serializers.IntegerField(read_only=True, help_text="Total across locations.")
    next_restock = serializers.DateField(
        read_only=True, allow_null=True, help_text="Earliest open restock, today or later."
    )

    class Meta:
        model = Item
        fields = [
            "sku",
            "name",
            "unit",
            "reorder_point",
            "active",
            "on_hand",
            "next_restock",
            "created_at",
        ]
        read_only_fields = fields


class ItemCreateSerializer(serializers.Serializer):
    sku = SkuField()
    name = StrictCharField(max_length=_max(Item, "name"))
    unit = StrictCharField(max_length=_max(Item, "unit"), required=False)
    reorder_point = StrictIntegerField(min_value=0, max_value=MAX_QUANTITY, required=False)
    active = StrictBooleanField(required=False)


class ItemUpdateSerializer(serializers.Serializer):
    """Descriptive fields only: on-hand changes through movements, and a SKU never changes."""

    name = StrictCharField(max_length=_max(Item, "name"), required=False)
    unit = StrictCharField(max_length=_max(Item, "unit"), required=False)
    reorder_point = StrictIntegerField(min_value=0, max_value=MAX_QUANTITY, required=False)
    active = StrictBooleanField(required=False)

    def validate(self, attrs: dict) -> dict:
        _reject(self.initial_data, ("on_hand",), "on-hand changes only through movements")
        _reject(self.initial_data, ("sku",), "a SKU cannot change")
        return attrs


# --- Locations -------------------------------------------------------------------------------


class LocationSerializer(serializers.Serializer):
    code = _location_code()
    name = StrictCharField(max_length=_max(Location, "name"))


# --- Movements -------------------------------------------------------------------------------


class MovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="item.sku", read_only=True)
    from_location = _code_of("from_location")
    to_location = _code_of("to_location")

    class Meta:
        model = Movement
        fields = [
            "id",
            "kind",
            "sku",
            "quantity",
            "from_location",
            "to_location",
            "reason",
            "actor",
            "created_at",
        ]
        read_only_fields = fields


class MovementCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MovementKind.choices)
    sku = SkuField()
    quantity = quantity_field()
    from_location = _location_code(
        required=False, allow_null=True, help_text="Code of the location the stock leaves."
    )
    to_location = _location_code(
        required=False, allow_null=True, help_text="Code of the location the stock arrives at."
    )
    reason = StrictCharField(max_length=_max(Movement, "reason"), required=False, allow_blank=True)


# --- Restocks --------------------------------------------------------------------------------


class RestockSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="item.sku", read_only=True)
    location = _code_of("location")
    receipt = serializers.IntegerField(
        source="receipt_id",
        read_only=True,
        allow_null=True,
        help_text="The id of the receipt movement, once received.",
    )

    class Meta:
        model = Restock
        fields = [
            "id",
            "sku",
            "quantity",
            "expected_date",
            "location",
            "status",
            "receipt",
            "created_at",
        ]
        read_only_fields = fields


class RestockCreateSerializer(serializers.Serializer):
    sku = SkuField()
    quantity = quantity_field()
    expected_date = serializers.DateField()
    location = _location_code(required=False, allow_null=True)


class RestockReceiveSerializer(serializers.Serializer):
    location = _location_code(
        required=False,
        allow_null=True,
        help_text="Where it arrived (defaults to the restock's location).",
    )


# --- Stock -----------------------------------------------------------------------------------


class LocationQuantitySerializer(serializers.Serializer):
    location = serializers.CharField()
    quantity = serializers.IntegerField()


class StockSerializer(serializers.Serializer):
    """The core `stock_snapshot` plus on-hand per location."""

    sku = serializers.CharField()
    found = serializers.BooleanField()
    quantity = serializers.IntegerField(allow_null=True)
    restock_date = serializers.DateField(allow_null=True)
    locations = LocationQuantitySerializer(many=True)
