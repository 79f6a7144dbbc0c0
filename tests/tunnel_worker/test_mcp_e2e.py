"""End to end: the SDK's MCP client calls check_stock on the far side of an OpenSSH tunnel."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.support import free_port
from tests.tunnel_worker.support import (
    Sshd,
    run_tunnel,
    running,
    ssh_env,
    tunnel_env,
    unique_name,
    wait_until,
)
from tunnel_worker.selectors import tunnel_state

pytest.importorskip("mcp_bridge", reason="the /mcp endpoint (mcp_bridge) is not built yet")
helpers = pytest.importorskip(
    "tests.mcp_bridge.helpers", reason="the MCP test helpers (tests/mcp_bridge) are not there yet"
)


def test_sdk_client_calls_check_stock_through_the_tunnel(
    server, tenant_a, unique_sku: str, sshd: Sshd, tmp_path: Path
):
    stock = helpers.stock_item(tenant_a, unique_sku, quantity=9)
    token = helpers.issue(tenant_a)
    name, remote = unique_name("mcp"), free_port()
    proc = run_tunnel(tunnel_env(name, server.url, **ssh_env(sshd, remote)), tmp_path / "t.log")
    with running(proc):
        wait_until(lambda: tunnel_state(name)["state"] == "connected", 30, "tunnel connected")
        url = tunnel_state(name)["url"]
        assert url == f"http://127.0.0.1:{remote}/mcp"  # the edge's side, not the app's port

        async def call() -> dict:
            async with helpers.mcp_client(url, token) as (client, _):
                result = await client.call_tool("check_stock", {"sku": stock.sku})
                assert not result.is_error, result
                return result.structured_content

        assert anyio.run(call) == {
            "sku": stock.sku,
            "found": True,
            "quantity": 9,
            "restock_date": stock.restock_date.isoformat(),
        }
