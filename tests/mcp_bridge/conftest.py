"""Fixtures for the MCP endpoint: a second live server with more tools and tighter limits."""

from collections.abc import Iterator

import pytest

from tests.support import LiveServer, live_server


@pytest.fixture(scope="session")
def extra_server(tenant_a, tenant_b) -> Iterator[LiveServer]:  # noqa: ANN001
    """A live server with list_low_stock allowlisted, a localhost Origin allowed, 20 tool calls
    and 40 other requests a minute per token, and a 4 KiB body cap."""
    with live_server(
        MCP_TOOL_ALLOWLIST="check_stock,list_low_stock",
        MCP_ALLOWED_ORIGINS="http://localhost:*",
        MCP_RATE="20/min",
        MCP_PROTOCOL_RATE="40/min",
        MCP_MAX_BODY_BYTES="4096",
    ) as srv:
        yield srv
