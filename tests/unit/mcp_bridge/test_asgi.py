"""The tunnel's upstream (McpOnly): what it lets through, and how a tunnelled request looks to
the app behind it."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp_bridge.asgi import McpOnly
from ops.proxies import VIA_TUNNEL, lockout_parameters
from tests.support.asgi import request


def test_other_paths_are_404_and_never_reach_the_app() -> None:
    for path in ("/admin/", "/api/v1/stock/X", "/t/alpha/admin/", "/metrics", "/healthz"):
        answer = request(McpOnly, method="GET", path=path)
        assert answer.status == 404 and answer.inner_scope is None, path


def test_a_tunnelled_request_is_marked_and_keeps_its_scheme(settings: Any) -> None:
    settings.MCP_OAUTH_PUBLIC_ORIGINS = ["https://mcp.example.com"]
    answer = request(McpOnly, path="/mcp", headers={"host": "other.example.com"})
    assert answer.inner_scope is not None
    assert answer.inner_scope[VIA_TUNNEL] is True and answer.inner_scope["scheme"] == "http"


def test_a_public_https_origin_is_https_to_the_app(settings: Any) -> None:
    """The edge terminates TLS for the hosts MCP_OAUTH_PUBLIC_ORIGINS names: Django must see
    https there, or the consent pages redirect for ever under SECURE_SSL_REDIRECT."""
    settings.MCP_OAUTH_PUBLIC_ORIGINS = ["https://mcp.example.com"]
    answer = request(
        McpOnly, method="GET", path="/t/alpha/oauth/login/", headers={"host": "mcp.example.com"}
    )
    assert answer.inner_scope is not None and answer.inner_scope["scheme"] == "https"


class _Request:
    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope


def test_login_failures_through_the_tunnel_count_per_username_only() -> None:
    assert lockout_parameters(_Request({VIA_TUNNEL: True})) == [["username", "ip_address"]]
    assert lockout_parameters(_Request({})) == ["username", "ip_address"]
    assert lockout_parameters(object()) == ["username", "ip_address"]  # a stored attempt


def test_lifespan_passes_through_untouched() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)

    asyncio.run(McpOnly(app)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == [{"type": "lifespan"}]
