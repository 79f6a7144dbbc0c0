"""Ready-to-paste client configuration for the /mcp endpoint (printed by `make run`)."""

from typing import Any


def client_config(url: str, token: str, *, name: str = "inventory") -> dict[str, Any]:
    """Client configs for `url` with bearer `token`, keyed by client.

    - "mcpServers": the Claude Code / Claude Desktop / Cursor style `.mcp.json` entry
      (Streamable HTTP with an Authorization header);
    - "messages_api": the `mcp_servers` entry of Claude's Messages API MCP connector;
    - "claude_code_cli": the equivalent `claude mcp add` command line.
    """
    return {
        "mcpServers": {
            name: {
                "type": "http",
                "url": url,
                "headers": {"Authorization": f"Bearer {token}"},
            }
        },
        "messages_api": {
            "type": "url",
            "url": url,
            "name": name,
            "authorization_token": token,
        },
        "claude_code_cli": (
            f'claude mcp add --transport http {name} {url} --header "Authorization: Bearer {token}"'
        ),
    }
