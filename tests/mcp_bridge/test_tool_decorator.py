"""The guard `@mcp_tool` adds to every tool, through a real MCP client (the SDK's in-process
transport) on list_low_stock and check_stock, which both use it."""

import logging

import anyio
import pytest
from mcp import Client

from inventory.validators import SKU_RULE
from mcp_bridge.principal import Principal
from mcp_bridge.server import build_server
from mcp_bridge.tooling import TOOLS
from tests.support import stock_item

BOTH = ["check_stock", "list_low_stock"]


def _principal(tenant, *, stale: bool = False) -> Principal:  # noqa: ANN001
    return Principal(
        tenant_id=tenant.pk,
        schema_name=tenant.schema_name,
        credential_name="decorator-test",
        credential_id="dectest",
        stale=stale,
    )


def _call(principal: Principal | None, tool: str, arguments: dict):  # noqa: ANN202
    server = build_server(allowlist=BOTH, fixed_principal=principal)

    async def body():  # noqa: ANN202
        async with Client(server) as client:
            return await client.call_tool(tool, arguments)

    return anyio.run(body)


def _outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.mcp_outcome for r in caplog.records if r.name == "mcp_bridge.audit"]


def test_both_tools_are_registered_by_the_decorator() -> None:
    assert set(BOTH) <= set(TOOLS)


def test_low_stock_list_is_the_callers_tenant_only(tenant_a, tenant_b, unique_sku, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO, logger="mcp_bridge.audit")
    low = stock_item(tenant_a, unique_sku, quantity=2, reorder_point=5)
    stock_item(tenant_b, unique_sku + "B", quantity=1, reorder_point=5)
    result = _call(_principal(tenant_a), "list_low_stock", {"limit": 100})
    assert not result.is_error
    items = {i["sku"]: i for i in result.structured_content["items"]}
    assert items[low.sku] == {
        "sku": low.sku,
        "name": f"Item {low.sku}",
        "quantity": 2,
        "reorder_point": 5,
        "restock_date": low.restock_date.isoformat(),
    }
    assert unique_sku + "B" not in items
    assert _outcomes(caplog) == ["ok"]


def test_unverified_caller_gets_cannot_be_confirmed(tenant_a, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO, logger="mcp_bridge.audit")
    result = _call(_principal(tenant_a, stale=True), "list_low_stock", {})
    assert result.is_error
    assert result.content[0].text.startswith(
        "the low-stock list cannot be confirmed right now (inventory database unavailable)."
    )
    assert _outcomes(caplog) == ["unavailable"]


def test_invalid_argument_is_refused_before_the_database(tenant_a, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO, logger="mcp_bridge.audit")
    # A stale caller would read "cannot be confirmed" if the tool got as far as the database.
    result = _call(_principal(tenant_a, stale=True), "check_stock", {"sku": "bad sku!"})
    assert result.is_error
    assert SKU_RULE in result.content[0].text
    assert "(got 'bad sku!')" in result.content[0].text
    assert _outcomes(caplog) == ["invalid_sku"]


def test_no_caller_is_refused(caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO, logger="mcp_bridge.audit")
    result = _call(None, "list_low_stock", {})
    assert result.is_error
    assert result.content[0].text == "not authenticated: no tenant for this call"
    assert _outcomes(caplog) == ["unauthenticated"]
