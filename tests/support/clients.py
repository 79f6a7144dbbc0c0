"""Clients of the service as its users run them: a browser-like admin login, plain HTTP with a
Host header, the MCP SDK's own client over Streamable HTTP, and raw JSON-RPC bodies."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


def get(url: str, host: str | None = None, **kw: Any) -> httpx.Response:
    headers = dict(kw.pop("headers", {}))
    if host:
        headers["Host"] = host
    return httpx.get(url, headers=headers, timeout=kw.pop("timeout", 15), trust_env=False, **kw)


def admin_session(
    base_url: str, host: str, username: str, password: str, **headers: str
) -> tuple[httpx.Client, httpx.Response]:
    """Log in to the admin on `host` through its login form, as a browser would.

    Returns the client (holding the session cookie when the login worked) and the login answer:
    302 for a login that worked, 200 (the form again) for one that did not.
    """
    client = httpx.Client(
        base_url=base_url, headers={"Host": host, **headers}, follow_redirects=False, timeout=30
    )
    page = client.get("/admin/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, f"no login form on {host}: {page.status_code} {page.text[:300]}"
    answer = client.post(
        "/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": match.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        },
    )
    return client, answer


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
) -> AsyncIterator[tuple[Any, Seen]]:
    """The SDK's own Client over Streamable HTTP, with bearer auth and optional Host/Origin."""
    headers: dict[str, str] = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if host is not None:
        headers["Host"] = host
    if origin is not None:
        headers["Origin"] = origin
    seen = seen if seen is not None else Seen()

    async def record(response: Any) -> None:
        seen.statuses.append(response.status_code)
        if "www-authenticate" in response.headers:
            seen.challenges.append(response.headers["www-authenticate"])

    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

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


def mcp_check_stock(url: str, token: str, sku: str, host: str | None = None) -> dict[str, Any]:
    """One check_stock call with the MCP SDK's own client; its structured result."""
    import anyio

    async def call() -> dict[str, Any]:
        async with mcp_client(url, token, host=host) as (client, _):
            result = await client.call_tool("check_stock", {"sku": sku})
            assert not result.is_error, result
            return dict(result.structured_content or {})

    return anyio.run(call)
