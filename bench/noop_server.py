"""A yardstick for scenarios D and F: the same SDK client and server stack, and a tool that does
no I/O at all. Its throughput is what any MCP server built on this SDK can reach on this machine
with these clients, so it bounds the D/F ratio (see the report's notes).

    python -m bench.noop_server 8932
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

mcp = MCPServer("noop-inventory")


@mcp.tool()
def check_stock(sku: str) -> dict[str, object]:
    """A constant answer: no database, no authentication."""
    return {"sku": sku, "found": True, "quantity": 1, "restock_date": None}


def main(argv: list[str]) -> None:
    port = int(argv[1]) if len(argv) > 1 else 8932
    # The transport D uses: stateless, JSON responses.
    mcp.run(
        transport="streamable-http",
        host="127.0.0.1",
        port=port,
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )


if __name__ == "__main__":
    main(sys.argv)
