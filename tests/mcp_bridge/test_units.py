"""In-process checks of the pieces behind the gate (no HTTP)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from mcp_bridge import client_config
from mcp_bridge.auth import _StaleCache, host_allowed
from mcp_bridge.http import metadata_url, origin_allowed
from mcp_bridge.principal import Principal
from mcp_bridge.server import build_server


def test_origin_patterns() -> None:
    allowed = ("http://localhost:*", "https://app.example.com")
    assert origin_allowed("http://localhost:6274", allowed)
    assert origin_allowed("https://app.example.com", allowed)
    assert not origin_allowed("http://localhost:6274.evil.example", allowed)
    assert not origin_allowed("http://localhost", allowed)
    assert not origin_allowed("https://app.example.com.evil.example", allowed)
    assert not origin_allowed("http://localhost:1", ())


def test_host_rule(tenant_a, tenant_b) -> None:  # noqa: ANN001
    hosts = ("inventory.tunnel.example", ".internal.example")
    assert host_allowed(tenant=tenant_a, host="alpha.localhost:8000", allowed_hosts=hosts)
    assert not host_allowed(tenant=tenant_a, host="beta.localhost", allowed_hosts=hosts)
    # A tenant domain is never rescued by MCP_ALLOWED_HOSTS.
    assert not host_allowed(tenant=tenant_a, host="beta.localhost", allowed_hosts=("*",))
    assert host_allowed(tenant=tenant_a, host="inventory.tunnel.example", allowed_hosts=hosts)
    assert host_allowed(tenant=tenant_b, host="edge.internal.example:443", allowed_hosts=hosts)
    assert not host_allowed(tenant=tenant_a, host="evil.example", allowed_hosts=hosts)
    assert not host_allowed(tenant=tenant_a, host="", allowed_hosts=("*",))


def test_stale_cache_expires_and_drops() -> None:
    cache = _StaleCache(max_entries=2)
    p = Principal(tenant_id=1, schema_name="alpha", credential_name="n", credential_id="abc")
    cache.put("k", p)
    assert cache.get("k", max_age=60) == p
    assert cache.get("k", max_age=0) is None
    cache.drop("k")
    assert cache.get("k", max_age=60) is None
    for key in ("a", "b", "c"):
        cache.put(key, p)
    assert cache.get("a", max_age=60) is None  # bounded: the oldest entry went first


def test_metadata_url_inserts_the_well_known_path() -> None:
    from mcp_bridge.conf import mcp_settings

    scope = {
        "type": "http",
        "scheme": "https",
        "headers": [(b"host", b"inv.localhost")],
    }  # a host in ALLOWED_HOSTS
    expected = "https://inv.localhost/.well-known/oauth-protected-resource/mcp"
    assert metadata_url(scope, mcp_settings()) == expected


def test_allowlist_must_name_known_tools() -> None:
    with pytest.raises(ImproperlyConfigured, match="unknown tools"):
        build_server(allowlist=["check_stock", "drop_tables"])


def test_client_config_renders_every_client() -> None:
    config = client_config("https://inv.example/mcp", "inv_abc_secret")
    server = config["mcpServers"]["inventory"]
    assert server == {
        "type": "http",
        "url": "https://inv.example/mcp",
        "headers": {"Authorization": "Bearer inv_abc_secret"},
    }
    assert config["messages_api"]["authorization_token"] == "inv_abc_secret"
    assert config["claude_code_cli"].startswith("claude mcp add --transport http inventory ")
