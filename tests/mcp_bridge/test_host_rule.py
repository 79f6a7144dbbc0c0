"""The Host rule behind the gate, against real tenant domains (the fast tier has the rest of
the gate's decisions: tests/unit/mcp_bridge/)."""

from mcp_bridge.auth import host_allowed


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
