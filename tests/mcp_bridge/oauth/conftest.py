"""Fixtures for OAuth: the session server, and each tenant's authorization server on it."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.mcp_bridge.oauth.flow import Flow
from tests.support import MCP_HEADERS, Sshd, tool_call


@pytest.fixture
def edge_sshd(tmp_path: Path) -> Iterator[Sshd]:
    """The tunnel's SSH edge (OpenSSH), as in the tunnel tests."""
    edge = Sshd(tmp_path).start()
    yield edge
    edge.kill()


@pytest.fixture
def flow_a(server, tenant_a) -> Flow:  # noqa: ANN001
    return Flow(origin=server.url, schema=tenant_a.schema_name)


@pytest.fixture
def flow_b(server, tenant_b) -> Flow:  # noqa: ANN001
    return Flow(origin=server.url, schema=tenant_b.schema_name)


def call(
    url: str, token: str | None, *, host: str | None = None, sku: str = "NOPE-1"
) -> httpx.Response:
    """One raw tools/call at `url` with `token` (and a Host header)."""
    headers = dict(MCP_HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if host is not None:
        headers["Host"] = host
    return httpx.post(url, json=tool_call(sku), headers=headers, timeout=30)
