"""A revoked token never reads stock when its lookup fails: stale auth answers "cannot be confirmed".

The MCP gate falls back to a recent successful lookup when the token table cannot be read
(mcp_bridge.auth). That fallback must never reach inventory data: before the fix, a token revoked
minutes earlier read live quantities with the token table locked and right after a restart.
"""

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import psycopg
import pytest
from django.db import connection

from ops.dbconn import psycopg_conninfo
from tenancy.services import token_revoke
from tests.support import issue, live_server, mcp_client, stock_item, table_locked


def _check_stock(url: str, token: str, sku: str) -> Any:
    """check_stock through the SDK client; the exception when the endpoint refuses the token."""

    async def call() -> Any:
        async with mcp_client(url, token) as (client, _):
            return await client.call_tool("check_stock", {"sku": sku})

    try:
        return anyio.run(call)
    except Exception as exc:  # noqa: BLE001 - a refusal (401) is an acceptable answer here
        return exc


def _revoke(raw: str) -> None:
    token_revoke(prefix=raw.split("_")[1])


def assert_no_stock(result: Any, quantity: int) -> None:
    """Refused, or an isError "cannot be confirmed" with no number in it."""
    if isinstance(result, Exception):
        return
    assert result.is_error, result
    assert result.structured_content is None
    assert "cannot be confirmed right now" in result.content[0].text
    assert str(quantity) not in result.content[0].text


def test_revoked_token_with_token_table_locked(server, tenant_a, unique_sku) -> None:  # noqa: ANN001
    stock_item(tenant_a, unique_sku, quantity=4321)
    token = issue(tenant_a)
    url = server.url + "/mcp"
    assert _check_stock(url, token, unique_sku).structured_content["quantity"] == 4321
    _revoke(token)
    with table_locked("public.tenancy_apitoken"):  # as a migration would
        result = _check_stock(url, token, unique_sku)
    assert_no_stock(result, 4321)
    # The lock gone, the revoked token is refused outright.
    assert isinstance(_check_stock(url, token, unique_sku), Exception)


def _pg_ctl_and_data_dir() -> tuple[str, str]:
    with psycopg.connect(**psycopg_conninfo()) as conn:
        data_dir = str(conn.execute("SHOW data_directory").fetchone()[0])  # type: ignore[index]
    pg_ctl = shutil.which("pg_ctl")
    try:
        import pgserver

        pg_ctl = str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl")
    except ImportError:
        pass
    if not pg_ctl or not Path(data_dir, "postmaster.pid").exists():
        pytest.skip("PostgreSQL is not local to this test (DATABASE_URL names a remote server)")
    return pg_ctl, data_dir


def test_revoked_token_after_postgresql_restart(server, tenant_a, unique_sku) -> None:  # noqa: ANN001
    pg_ctl, data_dir = _pg_ctl_and_data_dir()
    stock_item(tenant_a, unique_sku, quantity=5432)
    token, other = issue(tenant_a), issue(tenant_a)
    with live_server() as srv:
        url = srv.url + "/mcp"
        for _ in range(3):  # a few pooled connections, all of which the restart breaks
            assert _check_stock(url, token, unique_sku).structured_content["quantity"] == 5432
        _revoke(token)
        connection.close()
        owner = Path(data_dir).stat().st_uid  # pgserver runs PostgreSQL as its own user
        subprocess.run(
            [pg_ctl, "restart", "-D", data_dir, "-m", "fast", "-w", "-t", "60", "-l", "log"],
            check=True,
            stdout=subprocess.DEVNULL,  # the new postmaster would hold a pipe open
            stderr=subprocess.DEVNULL,
            timeout=90,
            cwd=data_dir,
            user=owner if os.geteuid() == 0 else None,
        )
        connection.close_pool()  # this process's pool too: its connections died with the server
        for _ in range(3):
            assert_no_stock(_check_stock(url, token, unique_sku), 5432)
        # The pool heals (health checks on checkout): a valid token reads stock again.
        assert _check_stock(url, other, unique_sku).structured_content["quantity"] == 5432
    # The session's server lost all its pooled connections too, unused since: its first checkout
    # finds a dead one and sweeps the rest, so it serves again within a few requests.
    answers = []
    for _ in range(20):
        answers.append(
            httpx.get(server.url + "/admin/login/", headers={"Host": "alpha.localhost"}).status_code
        )
        if answers[-1] == 200:
            break
        time.sleep(0.5)
    assert answers[-1] == 200 and len(answers) <= 4, answers


def test_revoked_token_with_pool_exhausted(tenant_a, tenant_b, unique_sku) -> None:  # noqa: ANN001
    stock_item(tenant_a, unique_sku, quantity=6543)
    stock_item(tenant_b, unique_sku, quantity=1)
    token, busy = issue(tenant_a), issue(tenant_b)
    with live_server(DB_POOL_MIN="1", DB_POOL_MAX="2", DB_POOL_TIMEOUT="0.5") as srv:
        url = srv.url + "/mcp"
        assert _check_stock(url, token, unique_sku).structured_content["quantity"] == 6543
        _revoke(token)
        with table_locked(f"{tenant_b.schema_name}.inventory_item"):
            # Tenant b's calls each hold a pooled connection until the statement timeout.
            holders = [
                threading.Thread(target=_check_stock, args=(url, busy, unique_sku))
                for _ in range(4)
            ]
            for holder in holders:
                holder.start()
            threading.Event().wait(0.7)
            result = _check_stock(url, token, unique_sku)
            for holder in holders:
                holder.join(30)
        assert_no_stock(result, 6543)
        # The failure mode was really exercised: the token lookup found no free connection.
        assert "mcp auth: database unavailable (OperationalError); cached=True" in srv.log()
