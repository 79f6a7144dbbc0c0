"""Django middleware: tells the request's log context its tenant, route and token name, and counts
REST API errors by code. Installed right after TenantMainMiddleware (settings, Operations)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name

from ops import context, metrics

API_PREFIX = "/api/"


class RequestContextMiddleware:
    """Fills the request's context; starts one when no ASGI layer did (tests, WSGI)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ctx = context.current()
        if ctx is None:
            with context.bound() as fresh:
                return self._handle(request, fresh)
        return self._handle(request, ctx)

    def _handle(self, request: HttpRequest, ctx: context.RequestContext) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        schema = getattr(tenant, "schema_name", None)
        if schema and schema != get_public_schema_name():
            ctx.tenant = schema
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        ctx.route = match.route if match is not None and match.route else None
        ctx.token_name = ctx.token_name or _token_name(request)
        if request.path.startswith(API_PREFIX) and response.status_code >= 400:
            metrics.count_rest_error(response.status_code, _error_code(response))
        return response


def _token_name(request: HttpRequest) -> str | None:
    """The API token's name once DRF authenticated the request (never its secret)."""
    token = getattr(getattr(request, "user", None), "token", None)
    name = getattr(token, "name", None)
    return str(name) if name else None


def _error_code(response: HttpResponse) -> Any:
    """The stable code of the API's error shape, {"error": {"code": ...}}."""
    data = getattr(response, "data", None)
    if data is None and response.get("Content-Type", "").startswith("application/json"):
        try:
            data = json.loads(response.content[:4096])
        except (ValueError, AttributeError):
            data = None
    error = data.get("error") if isinstance(data, dict) else None
    return error.get("code") if isinstance(error, dict) else f"http_{response.status_code}"
