from django.apps import AppConfig


class McpOAuthConfig(AppConfig):
    name = "mcp_bridge.oauth"
    label = "mcp_oauth"  # its templates live under mcp_oauth/
    verbose_name = "Connected agents"
