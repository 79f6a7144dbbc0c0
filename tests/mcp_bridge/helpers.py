"""Helpers for the MCP endpoint tests: tokens, stock fixtures, the SDK client over HTTP."""

import contextlib
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx2
from django_tenants.utils import schema_context
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from inventory import services
from inventory.tenancy.services import token_issue


def issue(tenant: Any, *scopes: str, name: str | None = None) -> str:
    """A fresh raw token for `tenant` (default scope: mcp)."""
    label = name or f"t-{uuid.uuid4().hex[:12]}"
    return token_issue(tenant=tenant, name=label, scopes=list(scopes or ["mcp"])).raw


@dataclass
class Stock:
    sku: str
    quantity: int
    restock_date: date


def stock_item(tenant: Any, sku: str, *, quantity: int = 7, reorder_point: int = 0) -> Stock:
    """An item in `tenant` with `quantity` on hand over two locations and one open restock."""
    with schema_context(tenant.schema_name):
        item = services.item_create(sku=sku, name=f"Item {sku}", reorder_point=reorder_point)
        a = services.location_create(code=f"A-{sku}"[:32], name="A")
        b = services.location_create(code=f"B-{sku}"[:32], name="B")
        first = quantity // 2
        for location, qty in ((a, first), (b, quantity - first)):
            if qty:
                services.movement_record(
                    kind="receipt", item=item, quantity=qty, actor="test", to_location=location
                )
        when = date.today() + timedelta(days=5)
        services.restock_create(item=item, quantity=10, expected_date=when)
    return Stock(sku=sku, quantity=quantity, restock_date=when)


@dataclass
class Seen:
    """HTTP responses seen by the SDK client's transport (status and WWW-Authenticate)."""

    statuses: list[int] = field(default_factory=list)
    challenges: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def mcp_client(
    url: str,
    token: str | None,
    *,
    host: str | None = None,
    origin: str | None = None,
    seen: Seen | None = None,
    mode: str = "auto",
) -> AsyncIterator[tuple[Client, Seen]]:
    """The SDK's own Client over Streamable HTTP, with bearer auth and optional Host/Origin."""
    headers: dict[str, str] = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if host is not None:
        headers["Host"] = host
    if origin is not None:
        headers["Origin"] = origin
    seen = seen if seen is not None else Seen()

    async def record(response: httpx2.Response) -> None:
        seen.statuses.append(response.status_code)
        if "www-authenticate" in response.headers:
            seen.challenges.append(response.headers["www-authenticate"])

    http = httpx2.AsyncClient(headers=headers, timeout=30.0, event_hooks={"response": [record]})
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        yield client, seen


async def connect_fails(url: str, token: str | None, **kw: str) -> Seen:
    """Try to connect and list tools; return what HTTP said. Fails the test if it worked."""
    seen = Seen()
    try:
        async with mcp_client(url, token, seen=seen, **kw) as (client, _):
            await client.list_tools()
    except Exception:  # noqa: S110 - the SDK client reports an HTTP refusal as an error
        pass
    else:
        raise AssertionError("the MCP client connected but should have been refused")
    return seen


class TcpProxy:
    """A loopback TCP proxy to PostgreSQL that a test can cut, to make the database unreachable."""

    def __init__(self, target: tuple[str, int] | str) -> None:
        self.target = target  # (host, port) or a unix socket path
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _connect_target(self) -> socket.socket:
        if isinstance(self.target, str):
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            return upstream
        return socket.create_connection(self.target)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = self._connect_target()
            with self._lock:
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Refuse new connections and cut the open ones: the database is now unreachable."""
        if self._stopped:
            return
        self._stopped = True
        # shutdown() wakes the thread blocked in accept(); close() alone leaves it listening.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
