"""Django app config, so that `manage.py mcp_stdio` is found."""

from django.apps import AppConfig


class McpBridgeConfig(AppConfig):
    name = "mcp_bridge"
    verbose_name = "MCP endpoint"
