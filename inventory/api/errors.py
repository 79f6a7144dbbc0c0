"""The API's one error shape, {"error": {"code", "message", "fields"}}, and the exception handler.

Every 4xx leaves through `api_exception_handler` (or `not_found` for unrouted API paths), so
the core's exceptions are mapped to HTTP in one place and never twice.
"""

import sys
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from inventory.api.conf import api_settings
from inventory.services import IdempotencyConflict, InsufficientStock, InventoryError, NotFound

UNAUTHENTICATED = "a valid bearer token for this tenant is required"
TOO_MANY_FAILURES = "too many failed authentication attempts from this address"
UNAVAILABLE = "the inventory database cannot be reached right now; retry later"
UNAVAILABLE_RETRY_AFTER = 5


class ApiError(exceptions.APIException):
    """An error whose status, code, message and fields are chosen by the API."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        self.status_code = status
        self.error_code = code
        self.fields = fields or {}
        self.wait = retry_after  # DRF's handler turns it into Retry-After
        super().__init__(detail=message, code=code)


def body_too_large() -> ApiError:
    cap = api_settings().MAX_BODY_BYTES
    return ApiError(413, "request_too_large", f"the request body is larger than {cap} bytes")


def error_body(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": dict(fields or {})}}


def _translate(exc: Exception) -> Exception:
    """Turn core and database exceptions into API exceptions; leave the rest alone."""
    if isinstance(exc, InsufficientStock | IdempotencyConflict):
        return ApiError(409, exc.code, str(exc))
    if isinstance(exc, NotFound):
        return ApiError(404, exc.code, str(exc))
    if isinstance(exc, InventoryError):
        return ApiError(400, exc.code, str(exc))
    if isinstance(exc, DjangoValidationError):
        if _is_duplicate(exc):
            fields = _flatten(as_serializer_error(exc))
            return ApiError(409, "already_exists", _summary(fields), fields)
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):
        return body_too_large()
    if isinstance(exc, DataError):
        return ApiError(400, "out_of_range", "a value is outside the range this service can store")
    if isinstance(exc, IntegrityError):
        return ApiError(409, "conflict", "the request conflicts with a concurrent change; retry it")
    if isinstance(exc, DatabaseError):  # unreachable, timed out, or cut at the request deadline
        return ApiError(503, "unavailable", UNAVAILABLE, retry_after=UNAVAILABLE_RETRY_AFTER)
    return exc


def _is_duplicate(exc: DjangoValidationError) -> bool:
    errors = [e for errs in getattr(exc, "error_dict", {}).values() for e in errs]
    return bool(errors) and all(e.code == "unique" for e in errors)


def _summary(fields: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{name}: {msgs[0]}" for name, msgs in fields.items()) or "invalid input"


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list) and any(isinstance(v, dict | list) for v in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(m) for m in messages]}


def _shape(exc: exceptions.APIException) -> dict:
    if isinstance(exc, ApiError):
        return error_body(exc.error_code, str(exc.detail), exc.fields)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # A missing token and a bad one (of any kind) must be indistinguishable.
        return error_body("unauthenticated", UNAUTHENTICATED)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        return error_body("invalid", _summary(fields), fields)
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None) or 0
        return error_body("throttled", f"too many requests for this token; retry in {wait:.0f}s")
    return error_body(exc.default_code, str(exc.detail))


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: DRF's own handling (status, headers), then our shape."""
    from rest_framework.views import exception_handler  # late: rest_framework.views imports us

    exc = _translate(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        response.data = _shape(exc)
    return response


@csrf_exempt
def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """JSON 404 for paths under /api/v1/ that match no endpoint."""
    return JsonResponse(error_body("not_found", "no such endpoint"), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage met outside a REST view (the tenant lookup runs first) is a
    503 in the one error shape; any other failure is a 500, JSON under /api/."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DatabaseError):
        response = JsonResponse(error_body("unavailable", UNAVAILABLE), status=503)
        response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
        return response
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("error", "internal server error"), status=500)
    return defaults.server_error(request)


# --- OpenAPI description of the error shape -------------------------------------------------


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    message = serializers.CharField(help_text="What went wrong, for a human.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages for validation errors; empty otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


_DESCRIPTIONS = {
    400: "Invalid input (validation error, including an invalid SKU).",
    401: "Missing, malformed, unknown, revoked or expired token, or a token of another tenant.",
    403: "The token lacks the scope named in the message.",
    404: "No such resource (or page).",
    409: "Insufficient stock, an idempotency-key conflict, a duplicate SKU or location code, "
    "or a concurrent change.",
    413: "The request body is larger than the configured cap.",
    415: "The request body is not JSON.",
    429: "Too many requests for this token; see Retry-After.",
    503: "The inventory database cannot be reached right now; see Retry-After.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses in the shared error shape for the given statuses."""
    return {s: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[s]) for s in statuses}


_RESPONSE_HEADERS = [
    OpenApiParameter(
        "WWW-Authenticate",
        str,
        OpenApiParameter.HEADER,
        required=True,
        response=[401],
        description="Bearer challenge.",
    ),
    OpenApiParameter(
        "Retry-After",
        int,
        OpenApiParameter.HEADER,
        required=True,
        response=[429],
        description="Seconds until this token may call again.",
    ),
]


def documented(
    *, responses: dict, errors: tuple[int, ...], parameters: list | None = None, **kwargs: Any
) -> Any:
    """extend_schema with the error responses (and their headers) in the shared error shape."""
    return extend_schema(
        parameters=[*(parameters or []), *_RESPONSE_HEADERS],
        responses={**responses, **error_responses(*errors)},
        **kwargs,
    )
