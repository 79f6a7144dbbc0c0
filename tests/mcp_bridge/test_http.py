"""The /mcp endpoint over Streamable HTTP, driven by the SDK's own client against live uvicorn."""

import contextlib
import json

import anyio
import httpx
import pytest
from django.utils import timezone
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from inventory.validators import SKU_RULE
from tenancy.models import ApiToken
from tenancy.services import token_revoke
from tests.support import MCP_HEADERS, connect_fails, issue, mcp_client, rpc, stock_item

STOCK_KEYS = {"sku", "found", "quantity", "restock_date"}


def _url(server) -> str:  # noqa: ANN001
    return server.url + "/mcp"


def test_lists_only_allowlisted_tools_with_declared_output_schema(server, tenant_a) -> None:  # noqa: ANN001
    token = issue(tenant_a)

    async def body() -> None:
        async with mcp_client(_url(server), token) as (client, _):
            tools = (await client.list_tools()).tools
            assert [t.name for t in tools] == ["check_stock"]
            schema = tools[0].output_schema
            assert set(schema["properties"]) == STOCK_KEYS
            assert set(schema["required"]) == STOCK_KEYS
            assert schema["additionalProperties"] is False
            assert {"type": "null"} in schema["properties"]["quantity"]["anyOf"]
            assert {"format": "date", "type": "string"} in schema["properties"]["restock_date"][
                "anyOf"
            ]
            assert "found: false" in tools[0].description
            assert "cannot be confirmed" in tools[0].description
            assert tools[0].annotations.read_only_hint is True
            assert "found: false" in client.instructions
            assert "cannot be confirmed" in client.instructions
            # Not allowlisted: not callable either.
            result = await client.call_tool("list_low_stock", {})
            assert result.is_error

    anyio.run(body)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_check_stock_found_and_not_found(server, tenant_a, tenant_b, unique_sku, mode) -> None:  # noqa: ANN001
    """Both protocol eras the SDK negotiates: 2026-07-28 (auto) and the initialize handshake."""
    stock = stock_item(tenant_a, unique_sku, quantity=9)
    stock_item(tenant_b, unique_sku + "B", quantity=4)
    token = issue(tenant_a)

    async def body() -> None:
        async with mcp_client(_url(server), token, mode=mode) as (client, _):
            era = MODERN_PROTOCOL_VERSIONS if mode == "auto" else HANDSHAKE_PROTOCOL_VERSIONS
            assert client.protocol_version in era
            found = await client.call_tool("check_stock", {"sku": stock.sku})
            assert not found.is_error
            assert found.structured_content == {
                "sku": stock.sku,
                "found": True,
                "quantity": 9,
                "restock_date": stock.restock_date.isoformat(),
            }
            missing = await client.call_tool("check_stock", {"sku": "NO-SUCH-SKU-1"})
            assert not missing.is_error
            assert missing.structured_content == {
                "sku": "NO-SUCH-SKU-1",
                "found": False,
                "quantity": None,
                "restock_date": None,
            }
            # Another tenant's item is invisible: the token decides the tenant.
            other = await client.call_tool("check_stock", {"sku": unique_sku + "B"})
            assert other.structured_content["found"] is False

    anyio.run(body)


def test_invalid_sku_is_an_error_naming_the_rule(server, tenant_a) -> None:  # noqa: ANN001
    token = issue(tenant_a)

    async def body() -> None:
        async with mcp_client(_url(server), token) as (client, _):
            for bad in ["", "-starts-with-dash", "has space", "x" * 65, "ünïcode"]:
                result = await client.call_tool("check_stock", {"sku": bad})
                assert result.is_error, bad
                assert result.structured_content is None
                assert SKU_RULE in result.content[0].text

    anyio.run(body)


def test_own_tenant_domain_is_accepted(server, tenant_a, unique_sku) -> None:  # noqa: ANN001
    stock_item(tenant_a, unique_sku, quantity=3)
    token = issue(tenant_a)

    async def body() -> None:
        async with mcp_client(_url(server), token, host="alpha.localhost") as (client, _):
            result = await client.call_tool("check_stock", {"sku": unique_sku})
            assert result.structured_content["quantity"] == 3

    anyio.run(body)


def _assert_401(seen, oauth_for: str | None = None) -> None:  # noqa: ANN001
    assert 401 in seen.statuses, seen.statuses
    assert seen.challenges and all(c.startswith("Bearer ") for c in seen.challenges)
    # Where the URL names no tenant, nothing may send the client into an OAuth flow; on a tenant's
    # own domain the challenge points at that tenant's metadata (mcp_bridge.oauth), never another's.
    if oauth_for is None:
        assert not any("resource_metadata=" in c for c in seen.challenges)
    else:
        expected = (
            f'resource_metadata="http://{oauth_for}/.well-known/oauth-protected-resource/mcp"'
        )
        assert all(expected in c for c in seen.challenges), seen.challenges


def test_host_of_another_tenant_or_unlisted_host_is_401(server, tenant_a, tenant_b) -> None:  # noqa: ANN001
    token = issue(tenant_a)
    for host in ["beta.localhost", f"beta.localhost:{server.port}", "evil.example"]:
        seen = anyio.run(lambda h=host: connect_fails(_url(server), token, host=h))
        # A host this service does not answer to is never echoed into the challenge.
        _assert_401(seen, oauth_for=None if host == "evil.example" else host)


def test_missing_revoked_expired_and_wrong_scope_tokens_are_401(server, tenant_a) -> None:  # noqa: ANN001
    revoked = issue(tenant_a)
    token_revoke(prefix=revoked.split("_")[1])
    expired = issue(tenant_a)
    ApiToken.objects.filter(prefix=expired.split("_")[1]).update(expires_at=timezone.now())
    wrong_scope = issue(tenant_a, "stock:read", "stock:write")
    cases = {
        "missing": None,
        "garbage": "not-a-token",
        "unknown": "inv_0123456789ab_" + "x" * 40,
        "revoked": revoked,
        "expired": expired,
        "wrong scope": wrong_scope,
    }
    for label, token in cases.items():
        seen = anyio.run(lambda t=token: connect_fails(_url(server), t))
        assert 401 in seen.statuses, label
        _assert_401(seen)
    # The bare challenge (no credential) carries no error code, per RFC 6750.
    response = httpx.post(_url(server), json={}, timeout=10)
    assert response.status_code == 401
    assert 'error="' not in response.headers["www-authenticate"]
    response = httpx.post(_url(server), json={}, headers={"Authorization": f"Bearer {revoked}"})
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_revocation_takes_effect_on_the_next_request(server, tenant_a) -> None:  # noqa: ANN001
    token = issue(tenant_a)

    async def works() -> None:
        async with mcp_client(_url(server), token) as (client, _):
            await client.list_tools()

    anyio.run(works)
    token_revoke(prefix=token.split("_")[1])
    _assert_401(anyio.run(lambda: connect_fails(_url(server), token)))


def test_a_cached_token_on_another_tenants_cached_host_is_401(
    server, tenant_a, tenant_b, unique_sku
) -> None:  # noqa: ANN001
    """The gate's in-memory path: alpha's token and beta's host both verified a moment ago (both
    cached in the server), then alpha's token sent with beta's Host. No stock of beta's is read."""
    stock_item(tenant_b, unique_sku, quantity=4242)
    alpha, beta = issue(tenant_a), issue(tenant_b)
    call = rpc("tools/call", {"name": "check_stock", "arguments": {"sku": unique_sku}})

    def post(token: str, host: str) -> httpx.Response:
        headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}", "Host": host}
        return httpx.post(server.url + "/mcp", json=call, headers=headers, timeout=10)

    assert post(alpha, "alpha.localhost").status_code == 200  # alpha's token now cached
    assert "4242" in post(beta, "beta.localhost").text  # beta's host now cached
    for _ in range(2):  # the second time both lookups are certainly warm
        refused = post(alpha, "beta.localhost")
        assert refused.status_code == 401, refused.text
        assert "4242" not in refused.text


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_meta_tenant_mismatch_is_refused(server, tenant_a, unique_sku, mode) -> None:  # noqa: ANN001
    stock_item(tenant_a, unique_sku, quantity=5)
    token = issue(tenant_a)

    async def body() -> None:
        async with mcp_client(_url(server), token, mode=mode) as (client, _):
            refused = await client.call_tool(
                "check_stock", {"sku": unique_sku}, meta={"tenant": "beta"}
            )
            assert refused.is_error
            assert refused.structured_content is None
            assert "refused" in refused.content[0].text
            assert "5" not in refused.content[0].text
            same = await client.call_tool(
                "check_stock", {"sku": unique_sku}, meta={"tenant": "alpha"}
            )
            assert same.structured_content["quantity"] == 5

    anyio.run(body)


def test_disallowed_origin_is_403(server, extra_server, tenant_a) -> None:  # noqa: ANN001
    token = issue(tenant_a)
    seen = anyio.run(lambda: connect_fails(_url(server), token, origin="http://evil.example"))
    assert 403 in seen.statuses
    # A loopback Origin is accepted on a loopback Host (development: here 127.0.0.1) ...
    response = httpx.post(_url(server), json={}, headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 401  # past the Origin check, stopped by auth
    for origin in ("http://[::1]:5173", "http://127.0.0.1", "http://demo.localhost:6274"):
        response = httpx.post(_url(server), json={}, headers={"Origin": origin})
        assert response.status_code == 401, origin
    # ... and on no other Host: MCP_ALLOWED_ORIGINS lists none by default, even before auth.
    for host in ("inventory.tunnel.example", "evil.example", "localhost.evil.example"):
        response = httpx.post(
            _url(server), json={}, headers={"Origin": "http://localhost:3000", "Host": host}
        )
        assert response.status_code == 403, host
    rebinding = {"Origin": "http://evil.example", "Host": "127.0.0.1"}
    assert httpx.post(_url(server), json={}, headers=rebinding).status_code == 403

    async def allowed() -> None:
        async with mcp_client(_url(extra_server), token, origin="http://localhost:6274") as (c, _):
            await c.list_tools()

    anyio.run(allowed)
    seen = anyio.run(lambda: connect_fails(_url(extra_server), token, origin="http://evil.example"))
    assert 403 in seen.statuses


def test_allowlist_from_the_environment_exposes_list_low_stock(
    extra_server, tenant_a, unique_sku
) -> None:  # noqa: ANN001
    low = stock_item(tenant_a, unique_sku, quantity=2, reorder_point=5)
    token = issue(tenant_a)

    async def body() -> None:
        async with mcp_client(_url(extra_server), token) as (client, _):
            tools = (await client.list_tools()).tools
            assert sorted(t.name for t in tools) == ["check_stock", "list_low_stock"]
            result = await client.call_tool("list_low_stock", {"limit": 100})
            assert not result.is_error
            rows = {row["sku"]: row for row in result.structured_content["items"]}
            assert rows[low.sku]["quantity"] == 2
            assert rows[low.sku]["reorder_point"] == 5

    anyio.run(body)


def _until_429(http: httpx.Client, body: dict, headers: dict[str, str], most: int) -> list[int]:
    codes = []
    for _ in range(most):
        response = http.post("/mcp", json=body, headers=headers)
        codes.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
            break
    return codes


def test_throttle_per_token_and_body_cap(extra_server, tenant_a) -> None:  # noqa: ANN001
    token, other = issue(tenant_a), issue(tenant_a)
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    call = rpc("tools/call", {"name": "check_stock", "arguments": {"sku": "THROTTLE-1"}})
    with httpx.Client(base_url=extra_server.url, timeout=10) as http:
        # 20 tool calls/min in fixed windows: 41 quick calls span at most two windows.
        codes = _until_429(http, call, headers, 41)
        assert codes[-1] == 429 and set(codes[:-1]) == {200} and len(codes) >= 21
        # Housekeeping has its own limit (40/min here): the token can still list its tools ...
        assert http.post("/mcp", json=rpc("tools/list"), headers=headers).status_code == 200
        # ... up to that limit.
        codes = _until_429(http, rpc("tools/list"), headers, 81)
        assert codes[-1] == 429 and set(codes[:-1]) == {200} and len(codes) >= 40
        # The limit is per token: another token of the same tenant is unaffected.
        other_headers = {**headers, "Authorization": f"Bearer {other}"}
        assert http.post("/mcp", json=rpc("tools/list"), headers=other_headers).status_code == 200
        big = rpc("tools/call", {"name": "check_stock", "arguments": {"sku": "A" * 8000}})
        assert http.post("/mcp", json=big, headers=other_headers).status_code == 413


def test_stateless_json_on_mcp_and_mcp_slash(server, tenant_a) -> None:  # noqa: ANN001
    token = issue(tenant_a)
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    for path in ["/mcp", "/mcp/"]:
        response = httpx.post(
            server.url + path, json=rpc("tools/list"), headers=headers, timeout=10
        )
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert "mcp-session-id" not in response.headers
        assert [t["name"] for t in response.json()["result"]["tools"]] == ["check_stock"]
    auth = {"Authorization": f"Bearer {token}"}
    for method in ("GET", "DELETE"):  # no standalone stream, no session to end
        response = httpx.request(method, server.url + "/mcp", headers=auth, timeout=10)
        assert response.status_code == 405, (method, response.status_code, response.text)


def test_protected_resource_metadata_and_django_beside_it(server) -> None:  # noqa: ANN001
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ]:
        response = httpx.get(server.url + path, headers={"Host": "mcp.localhost"})
        assert response.status_code == 200
        meta = response.json()
        assert meta["resource"] == "http://mcp.localhost/mcp"
        assert meta["scopes_supported"] == ["mcp"]
    response = httpx.post(server.url + "/mcp", json={}, headers={"Host": "mcp.localhost"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mcp"'  # no OAuth discovery
    # Django still serves every other path on the same port.
    admin = httpx.get(server.url + "/admin/login/", headers={"Host": "alpha.localhost"})
    assert admin.status_code == 200
    assert "mcp" not in json.dumps(dict(admin.headers)).lower()


def test_each_call_is_audited_without_the_token(extra_server, tenant_a, unique_sku) -> None:  # noqa: ANN001
    stock_item(tenant_a, unique_sku, quantity=1)
    token = issue(tenant_a, name=f"agent-{unique_sku}")

    async def body() -> None:
        async with mcp_client(_url(extra_server), token) as (client, _):
            await client.call_tool("check_stock", {"sku": unique_sku})
            await client.call_tool("check_stock", {"sku": unique_sku + "-X"})
            await client.call_tool("check_stock", {"sku": "bad sku"})
            await client.call_tool("check_stock", {"sku": unique_sku}, meta={"tenant": "beta"})
            with contextlib.suppress(Exception):  # the SDK's answer to an unknown tool
                await client.call_tool("drop_tables", {"sku": unique_sku})

    anyio.run(body)
    log = extra_server.log()
    prefix = f"mcp call tenant=alpha token_name='agent-{unique_sku}' tool='check_stock'"
    for sku, outcome in [
        (unique_sku, "found"),
        (unique_sku + "-X", "not_found"),
        ("bad sku", "invalid_sku"),
        (unique_sku, "refused_tenant_mismatch"),
    ]:
        assert f"{prefix} sku='{sku}' outcome={outcome} latency_ms=" in log, (sku, outcome)
    unknown = f"tool='drop_tables' sku='{unique_sku}' outcome=unknown_tool latency_ms="
    assert unknown in log
    assert token.split("_")[2] not in log


def test_reused_worker_threads_never_answer_for_another_tenant(
    server, tenant_a, tenant_b, unique_sku
) -> None:  # noqa: ANN001
    """The schema is entered per call on the worker thread and reset after, so interleaved
    callers of two tenants on the same server (same thread pool) each see only their own."""
    stock_item(tenant_a, unique_sku, quantity=3)
    stock_item(tenant_b, unique_sku, quantity=30)
    tokens = {3: issue(tenant_a), 30: issue(tenant_b)}

    async def body() -> None:
        async with (
            mcp_client(_url(server), tokens[3]) as (alpha, _),
            mcp_client(_url(server), tokens[30]) as (beta, _),
        ):
            for _ in range(8):
                for expected, client in ((3, alpha), (30, beta)):
                    result = await client.call_tool("check_stock", {"sku": unique_sku})
                    assert result.structured_content["quantity"] == expected

    anyio.run(body)


def test_initialize_advertises_what_is_served_and_the_real_version(server, tenant_a) -> None:  # noqa: ANN001
    from mcp_bridge.server import server_version

    token = issue(tenant_a)
    mark = server.log_mark()

    async def body() -> None:
        async with mcp_client(_url(server), token) as (client, _):
            capabilities = client.server_capabilities
            assert capabilities.tools is not None
            assert capabilities.prompts is None and capabilities.resources is None
            assert client.server_info is not None
            assert client.server_info.version == server_version() != ""
            with pytest.raises(Exception, match="(?i)method not found"):
                await client.list_prompts()
            with pytest.raises(Exception, match="(?i)method not found"):
                await client.list_resources()

    anyio.run(body)
    assert "Traceback" not in server.log(
        since=mark
    )  # ordinary protocol errors are not server errors
