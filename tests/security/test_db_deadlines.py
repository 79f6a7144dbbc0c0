"""A frozen PostgreSQL (a proxy that blackholes every byte) is answered within 5 s, and hung calls
do not exhaust the server: before the fix, /mcp and /api/ waited for ever.

PostgreSQL's statement_timeout is the server's: a frozen server enforces nothing. The client cuts
database waits at the request's deadline (ops.deadline).
"""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import (
    MCP_HEADERS,
    LiveServer,
    TcpProxy,
    database_proxy,
    database_url_via,
    issue,
    live_server,
    stock_item,
    tool_call,
)

WITHIN = 5.0


@pytest.fixture
def frozen_setup() -> Iterator[tuple[TcpProxy, LiveServer]]:
    proxy = database_proxy()
    try:
        with live_server(DATABASE_URL=database_url_via(proxy.port)) as srv:
            yield proxy, srv
    finally:
        proxy.thaw()
        proxy.stop()


def _mcp(srv: LiveServer, token: str, sku: str, timeout: float = 30) -> httpx.Response:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    return httpx.post(srv.url + "/mcp", json=tool_call(sku), headers=headers, timeout=timeout)


def _timed(fn, *args):  # noqa: ANN001, ANN002, ANN202
    started = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - started


def test_frozen_database_mcp_and_rest_answer_within_5s(frozen_setup, tenant_a, unique_sku) -> None:  # noqa: ANN001
    proxy, srv = frozen_setup
    stock_item(tenant_a, unique_sku, quantity=77)
    token, rest_token = issue(tenant_a), issue(tenant_a, "stock:read")
    assert _mcp(srv, token, unique_sku).json()["result"]["structuredContent"]["quantity"] == 77
    proxy.freeze()

    response, took = _timed(_mcp, srv, token, unique_sku)
    assert took < WITHIN, took
    result = response.json()["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"].startswith(f"stock for {unique_sku} cannot be confirmed")
    # The quantity is not stated (the random SKU itself may hold the digits).
    assert "77" not in result["content"][0]["text"].replace(unique_sku, "")

    def rest() -> httpx.Response:
        return httpx.get(
            f"{srv.url}/api/v1/stock/{unique_sku}",
            headers={"Host": "alpha.localhost", "Authorization": f"Bearer {rest_token}"},
            timeout=30,
        )

    response, took = _timed(rest)
    assert took < WITHIN, took
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert int(response.headers["retry-after"]) >= 1


def test_many_calls_during_a_freeze_then_normal_calls(frozen_setup, tenant_a, unique_sku) -> None:  # noqa: ANN001
    proxy, srv = frozen_setup
    stock_item(tenant_a, unique_sku, quantity=55)
    token = issue(tenant_a)
    assert _mcp(srv, token, unique_sku).status_code == 200
    proxy.freeze()
    # More concurrent calls than the server has worker threads (anyio's default: 40).
    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(pool.map(lambda _: _timed(_mcp, srv, token, unique_sku), range(60)))
    for response, _took in answers:
        assert response.status_code == 200, response.text
        assert response.json()["result"]["isError"] is True
        assert "55" not in response.text.replace(unique_sku, "")  # no quantity stated
    assert max(took for _, took in answers) < 3 * WITHIN
    proxy.thaw()
    deadline = time.monotonic() + 2 * WITHIN
    while True:  # the pool replaces the connections the deadline cut
        response, took = _timed(_mcp, srv, token, unique_sku)
        result = response.json()["result"]
        if not result["isError"] or time.monotonic() > deadline:
            break
    assert result["structuredContent"]["quantity"] == 55
    assert took < WITHIN
