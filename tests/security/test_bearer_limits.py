"""Unusable bearer tokens are limited per client address, on REST and MCP: past
AUTH_FAILURE_RATE the address's further failures get 429 with Retry-After, while valid tokens
from the same address still pass (every agent behind the tunnel shares its address).

Before the fix an address could try tokens without limit (only valid tokens were throttled).
"""

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support import MCP_HEADERS, LiveServer, issue, live_server, rpc

LIMIT = 5


@pytest.fixture
def limited(tenant_a) -> Iterator[LiveServer]:  # noqa: ANN001
    # Its own cache prefix: the counters of other tests' servers (same Redis, same address) stay apart.
    with live_server(
        AUTH_FAILURE_RATE=f"{LIMIT}/min", CACHE_KEY_PREFIX=f"bl-{uuid.uuid4().hex[:8]}"
    ) as srv:
        yield srv


def _rest(srv: LiveServer, token: str) -> httpx.Response:
    headers = {"Host": "alpha.localhost", "Authorization": f"Bearer {token}"}
    return httpx.get(srv.url + "/api/v1/items", headers=headers, timeout=10)


def _mcp(srv: LiveServer, token: str) -> httpx.Response:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    return httpx.post(srv.url + "/mcp", json=rpc("tools/list"), headers=headers, timeout=10)


def test_failed_bearer_attempts_are_limited_per_address(limited, tenant_a, tenant_b) -> None:  # noqa: ANN001
    good_rest, good_mcp = issue(tenant_a, "stock:read"), issue(tenant_a)
    assert _rest(limited, good_rest).status_code == 200
    other_tenant = issue(tenant_b, "stock:read")
    # REST and MCP count together: a guess, another tenant's token, garbage, a revoked-looking one.
    guesses = [
        lambda: _rest(limited, "inv_aaaaaaaaaaaa_guess"),
        lambda: _mcp(limited, "inv_bbbbbbbbbbbb_guess"),
        lambda: _rest(limited, other_tenant),
        lambda: _mcp(limited, "not-even-a-token"),
        lambda: _rest(limited, "inv_cccccccccccc_guess"),
    ]
    assert [guess().status_code for guess in guesses] == [401] * LIMIT
    for response in (_rest(limited, "inv_dddddddddddd_guess"), _mcp(limited, "x")):
        assert response.status_code == 429, response.text
        assert int(response.headers["retry-after"]) >= 1
    rest = _rest(limited, "inv_eeeeeeeeeeee_guess")
    assert rest.json()["error"]["code"] == "throttled"
    assert set(rest.json()["error"]) == {"code", "message", "fields"}
    # Valid tokens still pass: junk from a shared address (the tunnel's) locks no one out.
    assert _rest(limited, good_rest).status_code == 200
    assert _mcp(limited, good_mcp).status_code == 200


def test_valid_tokens_do_not_count(limited, tenant_a) -> None:  # noqa: ANN001
    good = issue(tenant_a, "stock:read")
    for _ in range(3 * LIMIT):
        assert _rest(limited, good).status_code == 200
