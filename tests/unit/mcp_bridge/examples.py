"""A settings object and a caller for the gate tests here (built directly: no Django settings)."""

from mcp_bridge.conf import McpSettings
from mcp_bridge.principal import Principal

CONF = McpSettings(
    allowed_hosts=("inventory.tunnel.example",),
    allowed_origins=("https://app.example.com", "http://tools.example:*"),
    tool_allowlist=("check_stock",),
    rate="120/min",
    protocol_rate="1200/min",
    max_body_bytes=65536,
    auth_stale_seconds=300,
    resource_url="",
    site_hosts=("inv.localhost",),
)
PRINCIPAL = Principal(tenant_id=1, schema_name="alpha", credential_name="n", credential_id="abc")
