"""Celery supervision with real workers, beat and Redis: crash, competition, graceful drain."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.support import Sshd, Upstream, free_port, running, ssh_env, unique_name, wait_until
from tests.tunnel_worker.support import (
    MaxSampler,
    celery_beat,
    celery_worker,
    get_through,
    marked_processes,
    tunnel_env,
)
from tunnel_worker.selectors import tunnel_events, tunnel_state


def _up_under(name: str, remote: int, pid: int) -> bool:
    state = tunnel_state(name)
    return (
        state["state"] == "connected"
        and state["holder"]["pid"] == pid
        and get_through(remote) is not None
    )


def _connector_pids(sshd: Sshd) -> list[int]:
    return [c.pid for c in sshd.client_connections()]


def test_worker_sigkill_leaves_no_orphan_and_tunnel_returns(
    sshd: Sshd, upstream: Upstream, tmp_path: Path
):
    name, remote = unique_name("crash"), free_port()
    # Beat runs the watchdog every 5 s here (15 s in production) to keep the test short.
    env = tunnel_env(name, upstream, **ssh_env(sshd, remote), TUNNEL_WATCHDOG_INTERVAL="5")
    beat = celery_beat(env, tmp_path / "beat.log", tmp_path / "beat-schedule")
    general = celery_worker(env, tmp_path / "general.log", f"general-{name}@%h", queue="default")
    first = celery_worker(env, tmp_path / "w1.log", f"tunnel1-{name}@%h")
    second = None
    try:
        wait_until(lambda: _up_under(name, remote, first.pid), 60, "tunnel up under worker 1")
        assert _connector_pids(sshd) == [first.pid]

        os.kill(first.pid, signal.SIGKILL)
        first.popen.wait(10)
        wait_until(lambda: not sshd.client_connections(), 5, "connector gone with the worker")
        assert marked_processes(name) == []
        assert get_through(remote) is None
        # No worker is left: beat's watchdog sees the stale lease, says so, and re-queues.
        wait_until(lambda: tunnel_events(name=name, kinds=("watchdog",)), 30, "watchdog")
        seen = tunnel_state(name)
        # The watchdog stored `reconnecting`; with the dead holder's heartbeat stale, the status
        # read says `unknown` (after 2 x HEARTBEAT_INTERVAL), never `connected`.
        assert seen["stored_state"] == "reconnecting" and not seen["up"], seen
        assert seen["state"] in ("reconnecting", "unknown")
        assert "re-queued" in seen["last_error"]

        second = celery_worker(env, tmp_path / "w2.log", f"tunnel2-{name}@%h")
        started = time.monotonic()
        wait_until(lambda: _up_under(name, remote, second.pid), 60, "tunnel back under worker 2")
        print(f"tunnel restored {time.monotonic() - started:.1f}s after the new worker started")
        assert _connector_pids(sshd) == [second.pid]
    finally:
        for proc in (second, first, general, beat):
            if proc is not None:
                proc.terminate(timeout=20)


def test_two_workers_run_one_connector_and_sigterm_hands_over(
    sshd: Sshd, upstream: Upstream, tmp_path: Path
):
    name, remote = unique_name("pair"), free_port()
    env = tunnel_env(name, upstream, **ssh_env(sshd, remote))
    workers = [celery_worker(env, tmp_path / f"w{i}.log", f"tunnel{i}-{name}@%h") for i in (1, 2)]
    by_pid = {w.pid: w for w in workers}
    with running(*workers), MaxSampler(lambda: len(sshd.client_connections())) as connectors:
        wait_until(lambda: tunnel_state(name)["state"] == "connected", 60, "connected")
        time.sleep(3)  # both workers have received a tunnel_run by now (ready kick)
        holder = tunnel_state(name)["holder"]["pid"]
        assert holder in by_pid
        assert _connector_pids(sshd) == [holder]
        assert "standing by, lease held by" in by_pid[next(p for p in by_pid if p != holder)].log()

        by_pid[holder].popen.send_signal(signal.SIGTERM)  # graceful drain
        assert by_pid[holder].popen.wait(30) == 0, by_pid[holder].log()[-3000:]
        other = next(p for p in by_pid if p != holder)
        wait_until(lambda: _up_under(name, remote, other), 30, "standby took over")
        assert _connector_pids(sshd) == [other]
    assert connectors.max == 1, f"saw {connectors.max} connectors at once"
    stops = tunnel_events(name=name, kinds=("stopped",))
    assert any(e["holder"]["pid"] == holder for e in stops)
