"""The MCP endpoint's settings, read in one place from the `MCP_*` Django settings.

Flat settings rather than one dict (unlike ops.conf.app_settings' namespaced ones): production.py
and tenancy.validators read MCP_ALLOWED_HOSTS too. No second default: base.py sets every one.
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class McpSettings:
    allowed_hosts: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    tool_allowlist: tuple[str, ...]
    rate: str
    protocol_rate: str
    max_body_bytes: int
    auth_stale_seconds: int
    resource_url: str
    site_hosts: tuple[str, ...] = ()  # Django's ALLOWED_HOSTS: hosts a resource URL may name


def mcp_settings() -> McpSettings:
    """The current MCP settings (the `# --- MCP endpoint ---` section of config/settings/base.py,
    where their defaults are written, once)."""
    return McpSettings(
        allowed_hosts=tuple(settings.MCP_ALLOWED_HOSTS),
        allowed_origins=tuple(settings.MCP_ALLOWED_ORIGINS),
        tool_allowlist=tuple(settings.MCP_TOOL_ALLOWLIST),
        rate=settings.MCP_RATE,
        protocol_rate=settings.MCP_PROTOCOL_RATE,
        max_body_bytes=int(settings.MCP_MAX_BODY_BYTES),
        auth_stale_seconds=int(settings.MCP_AUTH_STALE_SECONDS),
        resource_url=settings.MCP_RESOURCE_URL,
        site_hosts=tuple(settings.ALLOWED_HOSTS),
    )
