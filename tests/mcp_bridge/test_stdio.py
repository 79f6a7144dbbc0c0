"""`manage.py mcp_stdio --tenant <schema>` driven by the SDK's own stdio client."""

import sys
import tempfile
from typing import TextIO

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.support import ROOT, manage, stock_item, subprocess_env


def _params(*args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[str(ROOT / "manage.py"), "mcp_stdio", *args],
        env=subprocess_env(),
        cwd=str(ROOT),
    )


def test_stdio_serves_the_operator_chosen_tenant(tenant_a, tenant_b, unique_sku) -> None:  # noqa: ANN001
    stock = stock_item(tenant_a, unique_sku, quantity=6)
    stock_item(tenant_b, unique_sku + "B", quantity=2)

    async def body(errlog: TextIO) -> None:
        async with Client(stdio_client(_params("--tenant", "alpha"), errlog=errlog)) as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["check_stock"]
            found = await client.call_tool("check_stock", {"sku": unique_sku})
            assert found.structured_content == {
                "sku": unique_sku,
                "found": True,
                "quantity": 6,
                "restock_date": stock.restock_date.isoformat(),
            }
            other = await client.call_tool("check_stock", {"sku": unique_sku + "B"})
            assert other.structured_content["found"] is False
            refused = await client.call_tool(
                "check_stock", {"sku": unique_sku}, meta={"tenant": "beta"}
            )
            assert refused.is_error

    # Any stray byte on stdout would break the protocol; logs (the audit lines) go to stderr.
    with tempfile.TemporaryFile(mode="w+") as errlog:
        anyio.run(body, errlog)
        errlog.seek(0)
        stderr = errlog.read()
    assert "mcp_stdio: serving tenant alpha" in stderr
    assert (
        f"mcp call tenant=alpha token_name='stdio' tool='check_stock' sku='{unique_sku}'" in stderr
    )


def test_stdio_refuses_an_unknown_tenant() -> None:
    result = manage("mcp_stdio", "--tenant", "no_such_tenant", timeout=60)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "no active tenant" in result.stderr
