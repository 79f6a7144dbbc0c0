"""The tunnel carries the MCP endpoint only: through the tunnel's far side, whatever the Host,
the admin, the REST API, its docs and the probes are 404 and /mcp works.

Before the fix the tunnel forwarded to the app's port, where all of them answered.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from django.conf import settings

from tests.support import (
    SSHD,
    LiveServer,
    Sshd,
    free_port,
    issue,
    live_server,
    mcp_client,
    running,
    ssh_env,
    stock_item,
    unique_name,
    wait_until,
)
from tests.tunnel_worker.support import run_tunnel, tunnel_env
from tunnel_worker.selectors import tunnel_state

PATHS = ["/admin/", "/admin/login/", "/api/v1/", "/api/v1/docs/", "/readyz", "/metrics", "/"]
PATHS += ["/api/v1/stock/X", "/healthz", "/static/admin/css/base.css", "/mcp/../admin/"]


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Sshd]:
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen") or os.geteuid() != 0:
        pytest.fail(
            "needs Debian's OpenSSH and root (the edge runs sshd): run `make test-deps` as root"
        )
    sshd = Sshd(tmp_path).start()
    yield sshd
    sshd.kill()


@pytest.fixture
def mcp_listener(tenant_a) -> Iterator[LiveServer]:  # noqa: ANN001
    with live_server("config.asgi:tunnel_application", METRICS_TOKEN="m-token") as srv:
        yield srv


def test_the_default_upstream_is_not_the_internal_port() -> None:
    assert settings.TUNNEL_WORKER["UPSTREAM"] == "http://127.0.0.1:8001"


def test_far_side_serves_mcp_only(edge, mcp_listener, tenant_a, unique_sku, tmp_path) -> None:  # noqa: ANN001
    stock_item(tenant_a, unique_sku, quantity=3)
    token, rest = issue(tenant_a), issue(tenant_a, "stock:read")
    name, remote = unique_name("surface"), free_port()
    env = tunnel_env(name, mcp_listener.url, **ssh_env(edge, remote))
    with running(run_tunnel(env, tmp_path / "t.log")):
        wait_until(lambda: tunnel_state(name)["state"] == "connected", 30, "tunnel connected")
        far = f"http://127.0.0.1:{remote}"
        for host in ("alpha.localhost", "localhost", f"127.0.0.1:{remote}", "evil.example"):
            headers = {"Host": host, "Authorization": f"Bearer {rest}"}
            for path in PATHS:
                response = httpx.get(far + path, headers=headers, timeout=10)
                assert response.status_code == 404, (host, path, response.text[:200])
                assert response.json()["error"]["code"] == "not_found"
            metrics = httpx.get(far + "/metrics", headers={"Host": host, **_bearer("m-token")})
            assert metrics.status_code == 404
        meta = httpx.get(far + "/.well-known/oauth-protected-resource/mcp", timeout=10)
        assert meta.status_code == 200 and meta.json()["scopes_supported"] == ["mcp"]

        async def call() -> dict:
            async with mcp_client(far + "/mcp", token) as (client, _):
                result = await client.call_tool("check_stock", {"sku": unique_sku})
                return result.structured_content

        assert anyio.run(call)["quantity"] == 3


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_internal_port_still_serves_everything(server, tenant_a) -> None:  # noqa: ANN001
    rest = issue(tenant_a, "stock:read")
    headers = {"Host": "alpha.localhost", **_bearer(rest)}
    assert httpx.get(server.url + "/admin/login/", headers=headers).status_code == 200
    assert httpx.get(server.url + "/api/v1/stock/NOPE-1", headers=headers).status_code == 200
    assert httpx.get(server.url + "/readyz").status_code in (200, 503)
