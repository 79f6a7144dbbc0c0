from django.apps import AppConfig


class McpOAuthConfig(AppConfig):
    name = "mcp_oauth"
    verbose_name = "Connected agents"
