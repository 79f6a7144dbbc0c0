"""Faults on the SSH path with a real OpenSSH edge: restarts, half-open links, bad credentials."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support import (
    Sshd,
    Upstream,
    free_port,
    keygen,
    running,
    ssh_env,
    unique_name,
    wait_until,
)
from tests.tunnel_worker.support import MaxSampler, get_through, run_tunnel, tunnel_env
from tunnel_worker.selectors import tunnel_events, tunnel_state


def _connected_and_passing(name: str, remote: int) -> bool:
    return tunnel_state(name)["state"] == "connected" and get_through(remote) is not None


def test_edge_restarts_ten_times(sshd: Sshd, upstream: Upstream, tmp_path: Path):
    """A flapping edge with the production backoff (1 s doubling, cap 30 s, reset after 60 s):
    each connection carries a request before the edge dies again, which resets the backoff, so
    the tunnel is back within 5 s of the edge every time. The edge is up ~3 s between restarts,
    not 20 s: both are below the 60 s reset, so the backoff behaves the same."""
    name, remote = unique_name("restart"), free_port()
    env = tunnel_env(
        name, upstream, **ssh_env(sshd, remote), TUNNEL_BACKOFF_BASE="1", TUNNEL_BACKOFF_CAP="30"
    )
    proc = run_tunnel(env, tmp_path / "rt.log")
    report = []
    with running(proc), MaxSampler(lambda: len(sshd.client_connections())) as connectors:
        wait_until(lambda: _connected_and_passing(name, remote), 30, "first connection")
        for _ in range(10):
            killed = time.monotonic()
            sshd.kill()
            wait_until(lambda: tunnel_state(name)["state"] == "reconnecting", 30, "reconnecting")
            detected = time.monotonic() - killed
            time.sleep(1.0)  # the edge is away long enough for attempts to fail and back off
            sshd.start()
            restarted = time.monotonic()
            wait_until(lambda: _connected_and_passing(name, remote), 5, "back within 5 s")
            report.append((round(detected, 2), round(time.monotonic() - restarted, 2)))
            time.sleep(1.0)
    print("restart cycles (detect s, back after the edge s):", report)
    assert connectors.samples > 100
    assert connectors.max == 1, f"saw {connectors.max} connectors at once"

    failures = tunnel_events(name=name, kinds=("disconnected", "failed"), limit=1000)
    delays = [e for e in failures if e["backoff_seconds"] is not None]
    assert len(delays) >= 10
    for event in delays:
        ceiling = min(30.0, 1.0 * 2 ** event["attempt"])
        assert 0 <= event["backoff_seconds"] <= ceiling, event
    # Every loss of a connection that carried traffic starts the series again at attempt 0.
    assert sum(1 for e in delays if e["attempt"] == 0) >= 10
    state = tunnel_state(name)
    assert state["state"] == "stopped"  # run_tunnel was SIGTERMed at the end: one more "down"
    assert state["connects"] == 11 and state["disconnects"] == 11


def test_half_open_link_is_detected_and_recovered(sshd: Sshd, upstream: Upstream, tmp_path: Path):
    """SIGSTOP the edge's session processes; production keepalive defaults (5 s x 3)."""
    name, remote = unique_name("halfopen"), free_port()
    env = tunnel_env(
        name,
        upstream,
        **ssh_env(sshd, remote),
        TUNNEL_SSH_KEEPALIVE_INTERVAL="5",
        TUNNEL_SSH_KEEPALIVE_COUNT_MAX="3",
    )
    proc = run_tunnel(env, tmp_path / "ho.log")
    with running(proc):
        wait_until(lambda: _connected_and_passing(name, remote), 30, "connected")
        frozen = sshd.freeze()
        assert frozen, "no sshd session process to freeze"
        started = time.monotonic()
        try:
            wait_until(lambda: tunnel_state(name)["state"] != "connected", 30, "half-open detected")
            detected = time.monotonic() - started
            assert "keepalive" in tunnel_state(name)["last_error"]
        finally:
            sshd.thaw(frozen)
        thawed = time.monotonic()
        wait_until(lambda: _connected_and_passing(name, remote), 30, "recovered after thaw")
        print(
            f"half-open detected in {detected:.1f}s, recovered {time.monotonic() - thawed:.1f}s after thaw"
        )
    assert detected <= 30


@pytest.mark.parametrize("fault", ["wrong client key", "unknown edge host key"])
def test_bad_credentials_fail_loudly_with_bounded_retries(
    fault: str, sshd: Sshd, upstream: Upstream, tmp_path: Path
):
    name, remote = unique_name("badcreds"), free_port()
    creds = ssh_env(sshd, remote)
    if fault == "wrong client key":
        keygen(tmp_path / "stranger")
        creds["TUNNEL_SSH_KEY_FILE"] = str(tmp_path / "stranger")
        expected = "authentication failed"
    else:
        impostor = keygen(tmp_path / "impostor")
        (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{sshd.port} {impostor}\n")
        creds["TUNNEL_SSH_KNOWN_HOSTS"] = str(tmp_path / "known_hosts")
        expected = "host key"
    proc = run_tunnel(tunnel_env(name, upstream, **creds), tmp_path / "bad.log")  # floor 2 s
    with running(proc):
        wait_until(lambda: tunnel_state(name)["state"] == "failed", 15, "failed")
        assert expected in tunnel_state(name)["last_error"]
        before, window = sshd.log().count("Connection from"), 6.0
        time.sleep(window)
        attempts = sshd.log().count("Connection from") - before
    assert 1 <= attempts <= window / 2 + 1, f"{attempts} attempts in {window}s"
    failed = tunnel_events(name=name, kinds=("failed",))
    assert failed and all(e["backoff_seconds"] >= 2 for e in failed)
    assert "FAILED and needs an operator" in proc.log()
    assert get_through(remote) is None


def test_refused_remote_bind_is_a_failure(tmp_path: Path, upstream: Upstream):
    edge = Sshd(tmp_path, allow_forwarding=False).start()
    name, remote = unique_name("nobind"), free_port()
    proc = run_tunnel(tunnel_env(name, upstream, **ssh_env(edge, remote)), tmp_path / "nb.log")
    try:
        with running(proc):
            wait_until(
                lambda: "refused the remote bind" in tunnel_state(name)["last_error"],
                15,
                "bind refusal recorded",
            )
            assert tunnel_state(name)["state"] == "reconnecting"
            assert tunnel_state(name)["connects"] == 0
    finally:
        edge.kill()
