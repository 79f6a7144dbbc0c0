"""The embedded MCP endpoint: the inventory tools over Streamable HTTP at /mcp and over stdio."""

from mcp_bridge.client_config import client_config

__all__ = ["client_config"]
