"""End to end with the official MCP Python SDK client's OAuth provider and a real Chromium:
unauthenticated call -> 401 -> RFC 9728 / RFC 8414 discovery -> dynamic registration ->
authorize (the keeper logs in and consents in Chromium) -> token -> check_stock, directly and
through the SSH tunnel to the MCP-only listener (which carries nothing else)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from tests.mcp_bridge.oauth.flow import PASSWORD, keeper
from tests.support import (
    Sshd,
    free_port,
    live_server,
    running,
    ssh_env,
    stock_item,
    unique_name,
    wait_until,
)
from tests.tunnel_worker.support import run_tunnel, tunnel_env
from tunnel_worker.selectors import tunnel_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CALLBACK = "http://127.0.0.1:9/oauth/callback"  # never reached: Chromium's route answers it


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def connect_and_check(url: str, sku: str, username: str, tenant_name: str) -> dict[str, Any]:
    """Run the SDK's OAuth flow against `url`, with Chromium as the keeper's browser."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make test-deps` as root (Debian's chromium)")
    from playwright.async_api import async_playwright

    seen: list[int] = []
    pages: list[str] = []
    callback: dict[str, str] = {}

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        page = await browser.new_page()

        async def answer_callback(route: Any) -> None:
            callback["url"] = route.request.url
            await route.fulfill(status=200, body="done", content_type="text/plain")

        await page.route(f"{CALLBACK}**", answer_callback)

        async def redirect_handler(authorization_url: str) -> None:
            await page.goto(authorization_url)
            await page.fill("#id_username", username)
            await page.fill("#id_password", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_selector("#tenant")
            pages.append(await page.inner_text("body"))
            await page.click("button[name=allow]")
            await page.wait_for_url(f"{CALLBACK}**")

        async def callback_handler() -> AuthorizationCodeResult:
            query = httpx.URL(callback["url"]).params
            return AuthorizationCodeResult(
                code=query["code"], state=query.get("state"), iss=query.get("iss")
            )

        provider = OAuthClientProvider(
            server_url=url,
            client_metadata=OAuthClientMetadata(
                client_name="SDK e2e agent",
                redirect_uris=[CALLBACK],
                grant_types=["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="none",
                scope="mcp",
            ),
            storage=MemoryStorage(),
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
        )

        async def record(response: httpx2.Response) -> None:
            seen.append(response.status_code)

        http = httpx2.AsyncClient(auth=provider, timeout=30.0, event_hooks={"response": [record]})
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool("check_stock", {"sku": sku})
        await browser.close()
    assert not result.is_error, result
    assert seen[0] == 401  # the unauthenticated first call
    assert "SDK e2e agent" in pages[0] and tenant_name in pages[0]  # what the keeper saw
    return dict(result.structured_content or {})


def test_sdk_oauth_client_direct(server, tenant_a, unique_sku: str) -> None:  # noqa: ANN001
    stock = stock_item(tenant_a, unique_sku, quantity=4)
    url = f"{server.url}/t/{tenant_a.schema_name}/mcp"
    found = anyio.run(connect_and_check, url, stock.sku, keeper(tenant_a), tenant_a.name)
    assert found["found"] is True and found["quantity"] == 4


def test_sdk_oauth_client_through_the_tunnel(
    tenant_a,
    unique_sku: str,
    edge_sshd: Sshd,
    tmp_path: Path,
) -> None:
    stock = stock_item(tenant_a, unique_sku, quantity=6)
    with live_server("config.asgi:tunnel_application") as upstream:
        name, remote = unique_name("oauth"), free_port()
        env = tunnel_env(name, upstream.url, **ssh_env(edge_sshd, remote))
        proc = run_tunnel(env, tmp_path / "t.log")
        with running(proc):
            wait_until(lambda: tunnel_state(name)["state"] == "connected", 30, "tunnel connected")
            edge = f"http://127.0.0.1:{remote}"
            url = f"{edge}/t/{tenant_a.schema_name}/mcp"
            found = anyio.run(connect_and_check, url, stock.sku, keeper(tenant_a), tenant_a.name)
            assert found["found"] is True and found["quantity"] == 6
            # Nothing but /mcp, the metadata and the client's and browser's OAuth endpoints.
            for path in (
                "/admin/",
                "/admin/login/",
                "/api/v1/stock/X",
                "/healthz",
                f"/t/{tenant_a.schema_name}/oauth/introspect/",
                f"/t/{tenant_a.schema_name}/oauth/register/abc/",
                f"/t/{tenant_a.schema_name}/admin/",
                "/static/admin/css/base.css",
            ):
                assert httpx.get(edge + path, timeout=30).status_code == 404, path
            login = httpx.get(f"{edge}/t/{tenant_a.schema_name}/oauth/login/", timeout=30)
            assert login.status_code == 200
