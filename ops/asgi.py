"""The outermost ASGI layer: /healthz, /readyz and /metrics on every host, and for every other
request a log context, a request id, one access log line and the latency metric.

It runs before Django (whose TenantMainMiddleware answers 404 to hosts that are no tenant's) and
before the MCP gate (which checks Host), so probes work whatever Host header they send.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import time
from typing import Any

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops import context, health, metrics
from ops.conf import OpsSettings, ops_settings
from ops.proxies import without_forwarded_headers

access_logger = logging.getLogger("ops.access")

HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
MCP_PATHS = frozenset({"/mcp", "/mcp/"})


class OpsMiddleware:
    """Wraps the whole application (Django + /mcp); see the module docstring."""

    def __init__(self, app: ASGIApp, conf: OpsSettings | None = None) -> None:
        self.app = app
        self.conf = conf or ops_settings()
        self.allow_from = [
            ipaddress.ip_network(c, strict=False) for c in self.conf.METRICS_ALLOW_FROM
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = without_forwarded_headers(scope)
        path = scope["path"]
        if path in HEALTH_PATHS:
            await self._probe(path, scope, send)
            return
        await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        request_id = context.clean_request_id(headers.get("x-request-id"))
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with context.bound(request_id=request_id, scope=scope) as ctx:
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                seconds = time.perf_counter() - started
                route = ctx.route or ("/mcp" if scope["path"] in MCP_PATHS else "unmatched")
                metrics.observe_request(scope.get("method", ""), route, status, seconds)
                _access_log(scope, status, route, seconds)

    async def _probe(self, path: str, scope: Scope, send: Send) -> None:
        if path == "/healthz":
            await _send(send, 200, health.liveness())
        elif path == "/readyz":
            ready, report = await anyio.to_thread.run_sync(health.readiness, self.conf)
            await _send(send, 200 if ready else 503, report)
        elif not self._metrics_allowed(scope):
            await _send(send, 403, {"error": "forbidden", "detail": "metrics need METRICS_TOKEN"})
        else:
            body, content_type = await anyio.to_thread.run_sync(metrics.render)
            await _send_raw(send, 200, body, content_type)

    def _metrics_allowed(self, scope: Scope) -> bool:
        if self.conf.METRICS_TOKEN:
            supplied = Headers(scope=scope).get("authorization", "")
            expected = f"Bearer {self.conf.METRICS_TOKEN}"
            if hmac.compare_digest(supplied.encode(), expected.encode()):
                return True
        if self.conf.METRICS_REQUIRE_TOKEN:
            return False  # production: an address alone is never enough
        # The server's client address: X-Forwarded-For counts only from TRUSTED_PROXIES.
        client = (scope.get("client") or ("", 0))[0]
        try:
            address = ipaddress.ip_address(client)
        except ValueError:
            return False
        return any(address in network for network in self.allow_from)


def _access_log(scope: Scope, status: int, route: str, seconds: float) -> None:
    # The path without its query string: query strings are where careless clients put secrets.
    access_logger.info(
        "%s %s %s %.1fms",
        scope.get("method", ""),
        scope["path"][:200],
        status,
        seconds * 1000,
        extra={
            "http_method": scope.get("method", ""),
            "http_path": scope["path"][:200],
            "http_status": status,
            "http_route": route,
            "duration_ms": round(seconds * 1000, 1),
        },
    )


async def _send(send: Send, status: int, body: dict[str, Any]) -> None:
    await _send_raw(send, status, json.dumps(body).encode(), "application/json")


async def _send_raw(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wrap(app: ASGIApp) -> OpsMiddleware:
    """config.asgi: ``application = wrap(mount(django_application))``."""
    return OpsMiddleware(app)
