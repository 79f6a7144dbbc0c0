"""Strict JSON fields: no coercion of numbers to strings or strings to numbers.

DRF's defaults accept `123` for a string and `"12"` for an integer; a client that sends the
wrong type has a bug, and telling it (400) is kinder than guessing.
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from inventory.validators import SKU_MAX_LENGTH, SKU_RULE, validate_sku

MAX_QUANTITY = 2_147_483_647  # the largest value the database columns hold
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
SKU_SCHEMA = {
    "type": "string",
    "pattern": SKU_PATTERN,
    "maxLength": SKU_MAX_LENGTH,
    "description": f"A SKU: {SKU_RULE}.",
}


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_field(SKU_SCHEMA)
class SkuField(StrictCharField):
    """A SKU checked by the one SKU rule, so the message is the same on every interface."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("validators", [validate_sku])
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data == "":
            validate_sku(data)  # the SKU rule's message, not DRF's "may not be blank"
        return super().run_validation(data)


def quantity_field(**kwargs: Any) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=MAX_QUANTITY, **kwargs)
