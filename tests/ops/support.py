"""Helpers for the operations tests: a cuttable TCP proxy, a webhook receiver, log parsing."""

from __future__ import annotations

import contextlib
import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from ops.proxies import forwarded_allow_ips
from tests.support import ROOT, LiveServer, subprocess_env


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records POSTs; the first `fail_first` answer 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_first = fail_first
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner._lock:
                    owner.attempts += 1
                    failing = owner.attempts <= owner.fail_first
                    if not failing:
                        owner.received.append(
                            {"headers": dict(self.headers), "body": json.loads(body)}
                        )
                self.send_response(503 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/low-stock"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def get(url: str, host: str | None = None, **kw: Any) -> httpx.Response:
    headers = dict(kw.pop("headers", {}))
    if host:
        headers["Host"] = host
    return httpx.get(url, headers=headers, timeout=kw.pop("timeout", 15), trust_env=False, **kw)


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among a log's lines (other lines are ignored)."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
    return found


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of the first sample `name{labels...}` in a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        base, _, rest = series.partition("{")
        if base != name:
            continue
        if all(f'{k}="{v}"' in rest for k, v in labels.items()):
            return float(value)
    return None


class ProbeServer(LiveServer):
    """A LiveServer that counts as started once /healthz answers (its database may be gone)."""

    def start(self) -> ProbeServer:
        log = self.log_path.open("wb")
        argv = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--no-access-log", "--lifespan", "on"]
        argv += ["--forwarded-allow-ips", forwarded_allow_ips(subprocess_env(**self._env))]
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=subprocess_env(**self._env), stdout=log, stderr=subprocess.STDOUT
        )
        self.wait_ready(self.url + "/healthz")
        return self


def mcp_check_stock(url: str, token: str, sku: str, host: str | None = None) -> dict[str, Any]:
    """One check_stock call with the MCP SDK's own client over Streamable HTTP."""
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"}
    if host:
        headers["Host"] = host

    async def call() -> dict[str, Any]:
        http = httpx2.AsyncClient(headers=headers, timeout=30.0)
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool("check_stock", {"sku": sku})
            assert not result.is_error, result
            return dict(result.structured_content or {})

    return anyio.run(call)


def stock_item(
    schema: str, sku: str, *, on_hand: int, reorder_point: int = 0, active: bool = True
) -> None:
    """An item with `on_hand` units at one location, in `schema`, created through the services."""
    from django_tenants.utils import schema_context

    from inventory import services

    with schema_context(schema):
        item = services.item_create(
            sku=sku, name=f"Item {sku}", reorder_point=reorder_point, active=active
        )
        if on_hand:
            location = services.location_create(code=f"L-{sku}"[:32], name="Shelf")
            services.movement_record(
                kind="receipt", item=item, quantity=on_hand, actor="test", to_location=location
            )
