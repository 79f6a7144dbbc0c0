"""cloudflared backend, supervised against a FAKE cloudflared (see fake_cloudflared.py).

The real binary cannot be downloaded here. The fake serves the same /ready contract and relays
TCP like an edge would, so these tests exercise the worker's supervision, readiness parsing,
process-group handling and auth-failure path, not Cloudflare itself.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support import Upstream, free_port, pid_alive, running, unique_name, wait_until
from tests.tunnel_worker.support import (
    FAKE_CLOUDFLARED,
    celery_worker,
    get_through,
    marked_processes,
    run_tunnel,
    tunnel_env,
)
from tunnel_worker.connectors.external import cloudflared_ready_reason
from tunnel_worker.selectors import tunnel_events, tunnel_state


@pytest.mark.parametrize(
    ("status", "body", "ready"),
    [
        (200, '{"status":200,"readyConnections":4,"connectorId":"x"}', True),
        (200, '{"status":200,"readyConnections":1}', True),
        (503, '{"status":503,"readyConnections":0}', False),
        (200, '{"status":200,"readyConnections":0}', False),
        (200, "not json", False),
    ],
)
def test_ready_payload_parsing(status: int, body: str, ready: bool):
    assert (cloudflared_ready_reason(status, body) is None) is ready


def _fake(tmp_path: Path) -> Path:
    launcher = tmp_path / "cloudflared"
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE_CLOUDFLARED} "$@"\n')
    launcher.chmod(0o755)
    return launcher


def _env(name: str, upstream: Upstream, tmp_path: Path, public: int, **extra: str) -> dict:
    settings = {
        "TUNNEL_BACKEND": "cloudflared",
        "TUNNEL_CLOUDFLARED_BIN": str(_fake(tmp_path)),
        "TUNNEL_CLOUDFLARED_METRICS": f"127.0.0.1:{free_port()}",
        "TUNNEL_TOKEN": "good-token",
        "TUNNEL_PUBLIC_URL": "https://mcp.example.test/mcp",
        "FAKE_CF_PUBLIC_PORT": str(public),
        "TUNNEL_CONNECTOR_ENV": "FAKE_CF_*",  # connectors see only what they are given
    }
    return tunnel_env(name, upstream, **{**settings, **extra})


def _connector(name: str) -> psutil.Process | None:
    pids = marked_processes(name)
    leaders = [
        psutil.Process(p)
        for p in pids
        if "fake_cloudflared" in " ".join(psutil.Process(p).cmdline())
    ]
    return leaders[0] if len(leaders) == 1 else None


def _connected_under(name: str, pid: int) -> bool:
    state = tunnel_state(name)
    return state["state"] == "connected" and state["holder"]["pid"] == pid


def test_readiness_loss_restarts_the_whole_process_group(upstream: Upstream, tmp_path: Path):
    name, public = unique_name("cf"), free_port()
    env = _env(name, upstream, tmp_path, public, FAKE_CF_GRANDCHILD="1")
    proc = run_tunnel(env, tmp_path / "cf.log")
    with running(proc):
        wait_until(lambda: tunnel_state(name)["state"] == "connected", 30, "connected")
        assert tunnel_state(name)["url"] == "https://mcp.example.test/mcp"
        assert get_through(public) == "upstream-ok /hello"
        first = _connector(name)
        assert first is not None
        family = marked_processes(name)
        assert len(family) == 3  # the reaper shim, the fake and its helper child

        first.send_signal(signal.SIGUSR1)  # edge connections gone: /ready turns 503
        wait_until(lambda: tunnel_state(name)["state"] == "reconnecting", 10, "unready seen")
        # After UNREADY_GRACE (3 s here) the worker restarts cloudflared and its whole group.
        wait_until(lambda: not any(pid_alive(p) for p in family), 20, "old group gone")
        wait_until(lambda: tunnel_state(name)["state"] == "connected", 30, "reconnected")
        assert get_through(public) == "upstream-ok /hello"
        assert tunnel_state(name)["last_error"] == ""  # reconnected: the error is history
        reasons = [e["detail"] for e in tunnel_events(name=name, kinds=("disconnected",))]
        assert any("readyConnections=0" in r for r in reasons), reasons
    assert marked_processes(name) == []  # SIGTERM of run_tunnel stopped the group too


def test_bad_token_fails_with_reason_and_bounded_retries(upstream: Upstream, tmp_path: Path):
    name = unique_name("cfbad")
    proc = run_tunnel(
        _env(name, upstream, tmp_path, free_port(), TUNNEL_TOKEN="bad"), tmp_path / "b.log"
    )
    with running(proc):
        wait_until(lambda: tunnel_state(name)["state"] == "failed", 15, "failed")
        assert "Unauthorized" in tunnel_state(name)["last_error"]
        before, window = proc.log().count("Starting tunnel (FAKE"), 6.0
        time.sleep(window)
        starts = proc.log().count("Starting tunnel (FAKE") - before
    assert starts <= window / 2 + 1, f"{starts} starts in {window}s"
    assert "FAILED and needs an operator" in proc.log()


def test_worker_sigkill_takes_the_connector_and_its_helpers_at_once(
    upstream: Upstream, tmp_path: Path
):
    name, public = unique_name("cfkill"), free_port()
    env = _env(name, upstream, tmp_path, public, FAKE_CF_GRANDCHILD="1")
    first = celery_worker(env, tmp_path / "w1.log", f"cf1-{name}@%h")
    second = None
    try:
        wait_until(lambda: tunnel_state(name)["state"] == "connected", 60, "connected")
        leader = _connector(name)
        assert leader is not None and leader.parent().ppid() == first.pid  # under the shim
        family = [p for p in marked_processes(name) if p != leader.pid]
        assert len(family) == 2  # the shim and the fake's helper child

        os.kill(first.pid, signal.SIGKILL)
        # The shim (a subreaper told by PDEATHSIG) kills the connector and its helper at once.
        wait_until(lambda: not pid_alive(leader.pid), 5, "connector killed with its worker")
        wait_until(lambda: not any(pid_alive(p) for p in family), 5, "helper killed too")
        second = celery_worker(env, tmp_path / "w2.log", f"cf2-{name}@%h")
        wait_until(
            lambda: _connected_under(name, second.pid),  # one read: no race between two
            60,
            "restored under worker 2",
        )
        assert get_through(public) == "upstream-ok /hello"
    finally:
        for proc in (second, first):
            if proc is not None:
                proc.terminate(timeout=20)
    assert marked_processes(name) == []
