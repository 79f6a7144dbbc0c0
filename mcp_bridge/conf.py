"""The MCP endpoint's settings, read in one place from the `MCP_*` Django settings."""

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
    """The current MCP settings (see the `# --- MCP endpoint ---` block of config/settings/base.py)."""
    return McpSettings(
        allowed_hosts=tuple(getattr(settings, "MCP_ALLOWED_HOSTS", ("localhost", "127.0.0.1"))),
        allowed_origins=tuple(getattr(settings, "MCP_ALLOWED_ORIGINS", ())),
        tool_allowlist=tuple(getattr(settings, "MCP_TOOL_ALLOWLIST", ("check_stock",))),
        rate=getattr(settings, "MCP_RATE", "120/min"),
        protocol_rate=getattr(settings, "MCP_PROTOCOL_RATE", "1200/min"),
        max_body_bytes=int(getattr(settings, "MCP_MAX_BODY_BYTES", 64 * 1024)),
        auth_stale_seconds=int(getattr(settings, "MCP_AUTH_STALE_SECONDS", 300)),
        resource_url=getattr(settings, "MCP_RESOURCE_URL", ""),
        site_hosts=tuple(settings.ALLOWED_HOSTS),
    )
