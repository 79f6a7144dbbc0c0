"""End to end: the SDK's MCP client calls check_stock on the far side of an OpenSSH tunnel."""

from __future__ import annotations

from pathlib import Path

import anyio

from tests.support.clients import mcp_client
from tests.support.data import issue, stock_item, unique_name
from tests.support.edges import Sshd, ssh_env
from tests.support.processes import running
from tests.support.servers import free_port
from tests.support.waiting import wait_until
from tests.tunnel_worker.support import run_tunnel, tunnel_env
from tunnel_worker.selectors import tunnel_state


def test_sdk_client_calls_check_stock_through_the_tunnel(
    server, tenant_a, unique_sku: str, sshd: Sshd, tmp_path: Path
):
    stock = stock_item(tenant_a, unique_sku, quantity=9)
    token = issue(tenant_a)
    name, remote = unique_name("mcp"), free_port()
    proc = run_tunnel(tunnel_env(name, server.url, **ssh_env(sshd, remote)), tmp_path / "t.log")
    with running(proc):
        wait_until(lambda: tunnel_state(name)["state"] == "connected", 30, "tunnel connected")
        url = tunnel_state(name)["url"]
        assert url == f"http://127.0.0.1:{remote}/mcp"  # the edge's side, not the app's port

        async def call() -> dict:
            async with mcp_client(url, token) as (client, _):
                result = await client.call_tool("check_stock", {"sku": stock.sku})
                assert not result.is_error, result
                return result.structured_content

        assert anyio.run(call) == {
            "sku": stock.sku,
            "found": True,
            "quantity": 9,
            "restock_date": stock.restock_date.isoformat(),
        }
