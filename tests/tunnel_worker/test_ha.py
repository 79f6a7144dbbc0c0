"""Tunnel HA under one lease policy, "at most TUNNEL_LEASE_HOLDERS connectors at once".

ssh (1 holder): a hot standby host takes over when the active host disappears (its whole process
group SIGKILLed: no graceful release), and MCP calls go through again. cloudflared (N holders,
against the labelled FAKE cloudflared): N replicas all connected and ready at once, a further
host stands by, and it fills the slot of a replica whose host is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import anyio
import psutil

from tests.support.clients import mcp_client
from tests.support.data import issue, stock_item, unique_name
from tests.support.edges import Sshd, ssh_env
from tests.support.processes import Proc, manage, running
from tests.support.servers import Upstream, free_port
from tests.support.waiting import wait_until
from tests.tunnel_worker.support import run_tunnel, tunnel_env
from tests.tunnel_worker.test_cloudflared import _env as cloudflared_env
from tunnel_worker.child_process import CONNECTOR_MARK
from tunnel_worker.lease import SLOT_MARK
from tunnel_worker.selectors import tunnel_state


def _connectors(name: str) -> dict[int, str]:
    """pid -> slot of every connector process (shim, connector, helpers) of this tunnel."""
    found = {}
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            tag = proc.environ().get(CONNECTOR_MARK, "")
            if tag == name or tag.startswith(f"{name}{SLOT_MARK}"):
                found[proc.pid] = tag
    return found


def _kill_host(proc: Proc, name: str) -> None:
    """The host disappears: SIGKILL the worker's process group and its connector's group at
    the same instant (the connector runs in a session of its own under the reaper shim)."""
    groups = {proc.pid}
    for pid in _connectors(name):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if psutil.Process(pid).ppid() == proc.pid:
                groups.add(os.getpgid(pid))
    for group in groups:
        os.killpg(group, signal.SIGKILL)
    proc.popen.wait(10)


def _fake_cloudflareds(name: str) -> set[int]:
    return {pid for pid in _connectors(name) if "fake_cloudflared" in " ".join(_cmdline(pid))}


def _cmdline(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return []


def _check_stock(url: str, token: str, sku: str) -> dict | None:
    """check_stock through the SDK client; None when the call does not get through."""

    async def call() -> dict | None:
        async with mcp_client(url, token) as (client, _):
            result = await client.call_tool("check_stock", {"sku": sku})
            return None if result.is_error else result.structured_content

    try:
        return anyio.run(call)
    except Exception:  # noqa: BLE001 - refused or cut mid-call: not through yet
        return None


def test_standby_host_carries_mcp_calls_after_the_active_host_is_killed(
    server, tenant_a, unique_sku: str, sshd: Sshd, tmp_path: Path
):
    stock = stock_item(tenant_a, unique_sku, quantity=4)
    token = issue(tenant_a)
    name, remote = unique_name("ha"), free_port()
    env = tunnel_env(name, server.url, **ssh_env(sshd, remote))
    hosts = [run_tunnel(env, tmp_path / f"host{i}.log") for i in (1, 2)]
    url = f"http://127.0.0.1:{remote}/mcp"
    expected = {
        "sku": stock.sku,
        "found": True,
        "quantity": 4,
        "restock_date": stock.restock_date.isoformat(),
    }
    with running(*hosts):
        wait_until(lambda: tunnel_state(name)["up"], 60, "tunnel connected")
        assert _check_stock(url, token, stock.sku) == expected
        active_pid = tunnel_state(name)["holder"]["pid"]
        active = next(h for h in hosts if h.pid == active_pid)
        standby = next(h for h in hosts if h.pid != active_pid)
        wait_until(lambda: "standing by" in standby.log(), 30, "the other host standing by")
        assert [c.pid for c in sshd.client_connections()] == [active.pid]

        _kill_host(active, name)
        killed = time.monotonic()
        # The dead holder never renews: its lease expires within LEASE_TTL, the standby (which
        # polls every TTL/5) claims it and connects on its first attempt. Bound: TTL + the
        # backoff cap + one ssh connect timeout (6 + 3 + 5 s with tunnel_env's settings).
        bound = float(env["TUNNEL_LEASE_TTL"]) + float(env["TUNNEL_BACKOFF_CAP"])
        bound += float(env["TUNNEL_SSH_CONNECT_TIMEOUT"])
        wait_until(lambda: _check_stock(url, token, stock.sku) == expected, bound, "standby")
        print(f"MCP calls through the standby {time.monotonic() - killed:.1f}s after the kill")
        state = tunnel_state(name)
        assert state["holder"]["pid"] == standby.pid and state["up"], state
        assert [c.pid for c in sshd.client_connections()] == [standby.pid]


def _cf_host(name: str, upstream: Upstream, tmp_path: Path, i: int, holders: int) -> Proc:
    env = cloudflared_env(
        name, upstream, tmp_path / f"h{i}", free_port(), TUNNEL_LEASE_HOLDERS=str(holders)
    )
    return run_tunnel(env, tmp_path / f"cf{i}.log")


def test_cloudflared_replicas_all_ready_and_a_standby_fills_a_lost_slot(
    upstream: Upstream, tmp_path: Path
):
    name, holders = unique_name("cfha"), 2
    for i in range(3):
        (tmp_path / f"h{i}").mkdir()
    hosts = [_cf_host(name, upstream, tmp_path, i, holders) for i in range(3)]
    by_pid = {h.pid: h for h in hosts}

    def replicas_up() -> int:
        return int(tunnel_state(name)["replicas_up"])

    with running(*hosts):
        wait_until(lambda: replicas_up() == holders, 60, f"{holders} replicas connected")
        state = tunnel_state(name)
        assert state["up"]
        assert [r["name"] for r in state["replicas"]] == [name, f"{name}#1"]
        active = {r["holder"]["pid"] for r in state["replicas"]}
        assert len(active) == holders and active <= set(by_pid)
        assert len(_fake_cloudflareds(name)) == holders  # never more than the policy allows
        (spare,) = set(by_pid) - active
        wait_until(lambda: "standing by" in by_pid[spare].log(), 30, "third host standing by")

        shown = manage("tunnel_status", "--name", name)
        assert shown.returncode == 0, shown.stderr
        status = json.loads(shown.stdout)
        assert status["replicas_up"] == holders
        assert all(r["up"] and r["state"] == "connected" for r in status["replicas"])

        lost = next(iter(active))
        _kill_host(by_pid[lost], name)
        wait_until(
            lambda: (
                {r["holder"]["pid"] for r in tunnel_state(name)["replicas"] if r["up"]}
                == (active - {lost}) | {spare}
            ),
            60,
            "the standby filled the lost slot",
        )
        assert len(_fake_cloudflareds(name)) == holders
    assert _connectors(name) == {}
