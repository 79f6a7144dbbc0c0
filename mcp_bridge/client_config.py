"""Ready-to-paste client configuration for the /mcp endpoint (printed by `make run`)."""

from typing import Any


def client_config(url: str, token: str, *, name: str = "inventory") -> dict[str, Any]:
    """Client configs for `url` with bearer `token`, keyed by client.

    - "mcpServers": the `.mcp.json` entry of Claude Code (or Cursor's `mcp.json`): Streamable
      HTTP with an Authorization header. Claude Desktop takes only the stdio form
      (`manage.py mcp_stdio`, docs/agents.md);
    - "messages_api": one `mcp_servers` element of a Claude Messages API request; Anthropic's
      servers make the call, so `url` must then be a public https URL (a real tunnel);
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
