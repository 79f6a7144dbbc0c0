"""The one SKU rule every interface applies."""

import pytest
from django.core.exceptions import ValidationError

from inventory.validators import SKU_MAX_LENGTH, is_valid_sku, validate_sku


@pytest.mark.parametrize("sku", ["A", "9", "ABC-123", "a.b_c-d", "X" * SKU_MAX_LENGTH])
def test_valid_skus(sku: str) -> None:
    assert is_valid_sku(sku)
    assert validate_sku(sku) == sku


@pytest.mark.parametrize(
    "sku",
    [
        "",
        "-ABC",  # must start with a letter or digit
        ".hidden",
        "_x",
        "X" * (SKU_MAX_LENGTH + 1),
        "AB C",
        "AB/C",
        "ÄBC",  # ASCII only
        "ABC\n",
        "ABC;DROP",
        None,
        123,
    ],
)
def test_invalid_skus(sku: object) -> None:
    assert not is_valid_sku(sku)
    with pytest.raises(ValidationError) as raised:
        validate_sku(sku)
    assert raised.value.code == "invalid_sku"
    assert "1-64 characters" in raised.value.messages[0]
