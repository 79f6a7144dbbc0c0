"""The database really unavailable (not mocked): check_stock says "cannot be confirmed".

Two real failures: a table lock that makes the 2 s statement_timeout fire, and a live server whose
only route to PostgreSQL is a TCP proxy that the test cuts.
"""

import anyio
import httpx

from inventory.validators import SKU_RULE
from tests.support import (
    connect_fails,
    database_proxy,
    database_url_via,
    issue,
    live_server,
    mcp_client,
    stock_item,
    table_locked,
)


def test_statement_timeout_gives_cannot_be_confirmed(server, tenant_a, unique_sku) -> None:  # noqa: ANN001
    stock_item(tenant_a, unique_sku, quantity=11)
    token = issue(tenant_a)

    async def call() -> object:
        async with mcp_client(server.url + "/mcp", token) as (client, _):
            return await client.call_tool("check_stock", {"sku": unique_sku})

    with table_locked(f"{tenant_a.schema_name}.inventory_item"):
        result = anyio.run(call)
    assert result.is_error
    assert result.structured_content is None
    assert result.content[0].text.startswith(
        f"stock for {unique_sku} cannot be confirmed right now (inventory database timed out)"
    )
    assert "11" not in result.content[0].text
    # Once the lock is gone, the same call answers again.
    assert anyio.run(call).structured_content["quantity"] == 11


def test_unreachable_database_gives_cannot_be_confirmed(tenant_a, unique_sku) -> None:  # noqa: ANN001
    stock_item(tenant_a, unique_sku, quantity=8)
    seen_before, never_seen = issue(tenant_a), issue(tenant_a)
    proxy = database_proxy()
    try:
        with live_server(DATABASE_URL=database_url_via(proxy.port)) as srv:
            url = srv.url + "/mcp"

            async def call(sku: str) -> object:
                async with mcp_client(url, seen_before) as (client, _):
                    return await client.call_tool("check_stock", {"sku": sku})

            assert anyio.run(call, unique_sku).structured_content["quantity"] == 8
            proxy.stop()

            for sku in (unique_sku, "NOT-THERE-42"):
                result = anyio.run(call, sku)
                assert result.is_error, sku
                assert result.structured_content is None  # never found:false, never a number
                assert result.content[0].text.startswith(
                    f"stock for {sku} cannot be confirmed right now (inventory database unavailable)"
                )
            # Invalid input is refused without any database access, outage or not.
            invalid = anyio.run(call, "bad sku!")
            assert invalid.is_error and SKU_RULE in invalid.content[0].text
            # A token this server never verified cannot be checked now: 503, not a false 401.
            assert 503 in anyio.run(lambda: connect_fails(url, never_seen)).statuses
            response = httpx.post(url, json={}, headers={"Authorization": f"Bearer {never_seen}"})
            assert response.status_code == 503
            assert response.headers["retry-after"]
            assert f"sku='{unique_sku}' outcome=unavailable" in srv.log()
    finally:
        proxy.stop()
