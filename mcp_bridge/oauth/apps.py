"""App config of mcp_bridge.oauth: the tenants' authorization servers (label mcp_oauth)."""

from django.apps import AppConfig
from django.conf import settings

from ops import logs


class McpOAuthConfig(AppConfig):
    name = "mcp_bridge.oauth"
    label = "mcp_oauth"  # its templates live under mcp_oauth/
    verbose_name = "Connected agents"

    def ready(self) -> None:
        # The operators' introspection token never appears in a log line.
        logs.register_secrets(lambda: (getattr(settings, "MCP_OAUTH_INTROSPECTION_TOKEN", ""),))
