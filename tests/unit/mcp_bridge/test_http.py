"""The /mcp gate's decisions that need no database: Origin, method, the bearer header, which
requests count as tool calls, how each refusal is answered, and the resource URL it advertises."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcp_bridge import http
from mcp_bridge.http import McpGate, origin_allowed
from mcp_bridge.principal import SCOPE_KEY, Principal
from mcp_bridge.resource_metadata import metadata_url, resource_url
from tests.support.asgi import Answer, request
from tests.unit.mcp_bridge.examples import CONF, PRINCIPAL

CALL = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}}).encode()


@pytest.fixture(autouse=True)
def _static_tokens_only(settings: Any) -> None:
    """OAuth off: a refusal's challenge then names no tenant resource, which would take a
    database lookup (the tenant resources' challenges are tested in tests/mcp_bridge/oauth)."""
    settings.MCP_OAUTH_ENABLED = False


def gate(
    monkeypatch: pytest.MonkeyPatch | None = None,
    decision: tuple[Principal | None, int, int] | None = None,
    **kw: Any,
) -> tuple[Answer, list[tuple]]:
    """One request through the gate; with `decision`, the credential check (database and Redis
    behind it) is replaced by that answer, and the calls it got are returned."""
    checks: list[tuple] = []
    if monkeypatch is not None:

        def check(self: McpGate, *args: Any) -> tuple[Principal | None, int, int]:
            checks.append(args)
            assert decision is not None
            return decision

        monkeypatch.setattr(McpGate, "_check", check)
    kw.setdefault("headers", {"host": "alpha.localhost"})
    return request(lambda app: McpGate(app, CONF), **kw), checks


def test_origin_patterns() -> None:
    allowed = ("http://localhost:*", "https://app.example.com")
    assert origin_allowed("http://localhost:6274", allowed)
    assert origin_allowed("https://app.example.com", allowed)
    assert not origin_allowed("http://localhost:6274.evil.example", allowed)
    assert not origin_allowed("http://localhost", allowed)
    assert not origin_allowed("https://app.example.com.evil.example", allowed)
    assert not origin_allowed("http://localhost:1", ())


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://localhost:6274", "127.0.0.1:8000", True),  # a local client on a local server
        ("http://127.0.0.1:5173", "demo.localhost:8000", True),
        ("http://[::1]:3000", "[::1]:8000", True),
        # DNS rebinding: a local Origin, but the Host is not local
        ("http://localhost:6274", "inventory.tunnel.example", False),
        ("https://evil.example", "127.0.0.1:8000", False),
        ("http://localhost.evil.example", "127.0.0.1", False),
    ],
)
def test_loopback_origins_only_on_a_loopback_host(origin: str, host: str, allowed: bool) -> None:
    assert origin_allowed(origin, (), host=host) is allowed


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer inv_abc_secret", "inv_abc_secret"),
        ("bearer   inv_abc_secret  ", "inv_abc_secret"),
        ("Basic dXNlcjpwdw==", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_header_parsing(header: str | None, token: str | None) -> None:
    assert http._bearer(header) == token


@pytest.mark.parametrize(
    ("body", "tool_call"),
    [
        (CALL, True),
        (b'[{"method": "ping"}, {"method": "tools/call"}]', True),
        (b'{"method": "tools/list"}', False),
        (b'{"method": "initialize"}', False),
        (b"not json", False),
        (b"[" * 100_000, False),  # nested deeper than the parser's stack: housekeeping
        (b'"tools/call"', False),
    ],
)
def test_which_requests_count_as_tool_calls(body: bytes, tool_call: bool) -> None:
    assert http._calls_a_tool(body) is tool_call


def test_a_foreign_origin_is_refused_before_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    answer, checks = gate(
        monkeypatch,
        (PRINCIPAL, 200, 0),
        headers={"host": "alpha.localhost", "origin": "https://evil.example"},
    )
    assert answer.status == 403 and answer.json()["error"] == "forbidden"
    assert checks == [] and answer.inner_scope is None


def test_an_allowed_origin_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    headers = {"host": "alpha.localhost", "origin": "http://tools.example:8080"}
    headers["authorization"] = "Bearer inv_x_y"
    answer, _ = gate(monkeypatch, (PRINCIPAL, 200, 0), headers=headers, body=CALL)
    assert answer.status == 200 and answer.inner_scope is not None


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_only_post_is_served(method: str) -> None:
    answer, _ = gate(method=method)
    assert answer.status == 405 and answer.headers["allow"] == "POST"


def test_no_credential_is_a_bare_challenge() -> None:
    answer, _ = gate(body=CALL)
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="mcp"'  # RFC 6750: no error code
    assert answer.inner_scope is None


def test_a_refused_credential_is_an_invalid_token_challenge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = {"host": "alpha.localhost", "authorization": "Bearer inv_x_y"}
    answer, checks = gate(monkeypatch, (None, 401, 5), headers=headers, body=CALL)
    assert answer.status == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert checks == [("inv_x_y", "alpha.localhost", "127.0.0.1", True, ("http", "/mcp"))]


@pytest.mark.parametrize(
    ("status", "answered", "error"),
    [
        (429, 429, "rate_limited"),
        (http.ADDRESS_LIMITED, 429, "rate_limited"),
        (503, 503, "temporarily_unavailable"),
    ],
)
def test_limits_and_outages_say_when_to_retry(
    monkeypatch: pytest.MonkeyPatch, status: int, answered: int, error: str
) -> None:
    headers = {"host": "alpha.localhost", "authorization": "Bearer inv_x_y"}
    answer, _ = gate(monkeypatch, (None, status, 17), headers=headers, body=CALL)
    assert answer.status == answered and answer.json()["error"] == error
    assert answer.headers["retry-after"] == "17"


def test_an_accepted_request_reaches_the_server_with_its_principal_and_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = {"host": "alpha.localhost", "authorization": "Bearer inv_x_y"}
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}'
    answer, checks = gate(monkeypatch, (PRINCIPAL, 200, 0), headers=headers, body=body)
    assert answer.status == 200 and answer.body == b"inner"
    assert answer.inner_scope is not None and answer.inner_scope[SCOPE_KEY] == PRINCIPAL
    assert answer.inner_body == body  # the gate read the body once and handed it on
    assert checks[0][3] is False  # tools/list is housekeeping, not a tool call


def _scope(host: str, scheme: str = "http") -> dict[str, Any]:
    return {"type": "http", "scheme": scheme, "headers": [(b"host", host.encode())]}


def test_metadata_url_inserts_the_well_known_path() -> None:
    expected = "https://inv.localhost/.well-known/oauth-protected-resource/mcp"
    assert metadata_url(_scope("inv.localhost", "https"), CONF) == expected


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("inv.localhost:8000", "http://inv.localhost:8000/mcp"),
        ("inventory.tunnel.example", "http://inventory.tunnel.example/mcp"),
        ("evil.example", None),  # a host this service does not answer to
        ('inv.localhost", x="y', None),  # never copied into a header as is
        ("", None),
    ],
)
def test_resource_url_is_built_only_from_known_hosts(host: str, url: str | None) -> None:
    assert resource_url(_scope(host), CONF) == url
    assert metadata_url(_scope(host), CONF) == (
        url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp") if url else None
    )
