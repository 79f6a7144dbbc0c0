"""Building the MCP server and the client configurations it prints (no request served)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from mcp_bridge import client_config
from mcp_bridge.server import build_server


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
