"""The API's one error shape: every exception the REST views can meet becomes
{"error": {"code", "message", "fields"}} with the right status, and nested validation errors are
flattened to dotted field names."""

from __future__ import annotations

import pytest
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError
from rest_framework import exceptions

from inventory.api.errors import _flatten, api_exception_handler
from inventory.services import IdempotencyConflict, InsufficientStock, InventoryError, NotFound


def handled(exc: Exception) -> tuple[int, dict, dict]:
    response = api_exception_handler(exc, {})
    assert response is not None, f"{exc!r} was not handled"
    return response.status_code, response.data["error"], dict(response.items())


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (InsufficientStock("only 2 on hand"), 409, "insufficient_stock"),
        (IdempotencyConflict("key reused"), 409, "idempotency_conflict"),
        (NotFound("no item X"), 404, "not_found"),
        (InventoryError("quantity must be positive"), 400, "invalid"),
        (RequestDataTooBig(), 413, "request_too_large"),
        (DataError("numeric field overflow"), 400, "out_of_range"),
        (IntegrityError("duplicate key"), 409, "conflict"),
        (DatabaseError("server closed the connection"), 503, "unavailable"),
        (exceptions.NotAuthenticated(), 401, "unauthenticated"),
        (exceptions.AuthenticationFailed("token revoked"), 401, "unauthenticated"),
        (exceptions.PermissionDenied("needs stock:write"), 403, "permission_denied"),
        (exceptions.Throttled(wait=12), 429, "throttled"),
    ],
)
def test_each_exception_has_its_status_and_code(exc: Exception, status: int, code: str) -> None:
    got_status, error, _ = handled(exc)
    assert (got_status, error["code"]) == (status, code)
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str) and error["message"]


def test_a_core_error_keeps_its_message() -> None:
    _, error, _ = handled(InsufficientStock("only 2 on hand at A-1"))
    assert error["message"] == "only 2 on hand at A-1"


def test_a_missing_and_a_bad_token_read_the_same() -> None:
    assert (
        handled(exceptions.NotAuthenticated())[1]
        == handled(exceptions.AuthenticationFailed("revoked token inv_x"))[1]
    )


def test_an_outage_says_when_to_retry() -> None:
    _, _, headers = handled(DatabaseError("timeout"))
    assert headers["Retry-After"] == "5"
    _, error, headers = handled(exceptions.Throttled(wait=12))
    assert headers["Retry-After"] == "12" and "12s" in error["message"]


def test_validation_errors_name_each_field() -> None:
    status, error, _ = handled(
        exceptions.ValidationError({"sku": ["invalid SKU"], "quantity": ["must be > 0"]})
    )
    assert status == 400 and error["code"] == "invalid"
    assert error["fields"] == {"sku": ["invalid SKU"], "quantity": ["must be > 0"]}
    assert error["message"] == "sku: invalid SKU; quantity: must be > 0"


def test_a_duplicate_is_a_conflict_naming_the_field() -> None:
    duplicate = DjangoValidationError(
        {"sku": [DjangoValidationError("Item with this SKU already exists.", code="unique")]}
    )
    status, error, _ = handled(duplicate)
    assert (status, error["code"]) == (409, "already_exists")
    assert error["fields"] == {"sku": ["Item with this SKU already exists."]}


def test_a_model_validation_error_that_is_not_a_duplicate_is_invalid() -> None:
    status, error, _ = handled(
        DjangoValidationError({"sku": [DjangoValidationError("bad", code="invalid_sku")]})
    )
    assert (status, error["code"], error["fields"]) == (400, "invalid", {"sku": ["bad"]})


def test_anything_else_is_left_to_the_server_error_handler() -> None:
    assert api_exception_handler(KeyError("bug"), {}) is None


@pytest.mark.parametrize(
    ("detail", "flat"),
    [
        ("bad", {"non_field_errors": ["bad"]}),
        (["a", "b"], {"non_field_errors": ["a", "b"]}),
        ({"lines": [{"sku": ["bad"]}, {}]}, {"lines.0.sku": ["bad"]}),
        ({"a": {"b": {"c": ["deep"]}}}, {"a.b.c": ["deep"]}),
        ({"x": ["one"], "y": "two"}, {"x": ["one"], "y": ["two"]}),
        ([{"q": ["first"]}, {"q": ["second"]}], {"0.q": ["first"], "1.q": ["second"]}),
    ],
)
def test_flatten_gives_dotted_names(detail: object, flat: dict) -> None:
    assert _flatten(detail) == flat
