"""The one SKU rule, shared by every interface (admin, REST, MCP, commands, import)."""

import re

from django.core.exceptions import ValidationError

SKU_MAX_LENGTH = 64
SKU_RULE = (
    "a SKU is 1-64 characters of ASCII letters, digits, '-', '_' and '.', "
    "starting with a letter or digit"
)
_SKU_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")


def is_valid_sku(value: object) -> bool:
    return isinstance(value, str) and _SKU_RE.fullmatch(value) is not None


def validate_sku(value: object) -> str:
    """Return value if it is a valid SKU; otherwise raise ValidationError naming the rule."""
    if not is_valid_sku(value):
        raise ValidationError(f"invalid SKU: {SKU_RULE}", code="invalid_sku")
    return value  # type: ignore[return-value]
