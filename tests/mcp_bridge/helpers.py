"""Helpers for the MCP endpoint tests: tokens, stock fixtures, the SDK client over HTTP."""

import contextlib
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
from tenancy.services import token_issue


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


MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


def rpc(method: str, params: dict | None = None) -> dict:
    """One JSON-RPC request body, for raw HTTP calls to the stateless endpoint."""
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}


def tool_call(sku: str) -> dict:
    return rpc("tools/call", {"name": "check_stock", "arguments": {"sku": sku}})
