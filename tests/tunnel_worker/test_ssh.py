"""SSH backend end to end through Debian's OpenSSH sshd on loopback: no mocks."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.support import (
    Sshd,
    Upstream,
    free_port,
    manage,
    running,
    ssh_env,
    unique_name,
    wait_until,
)
from tests.tunnel_worker.support import get_through, run_tunnel, tunnel_env
from tunnel_worker.lease import lease_info
from tunnel_worker.selectors import tunnel_state


def _state(name: str) -> dict:
    return tunnel_state(name)


def test_run_tunnel_forwards_reports_and_drains(sshd: Sshd, upstream: Upstream, tmp_path: Path):
    name, remote = unique_name("ssh"), free_port()
    env = tunnel_env(name, upstream, **ssh_env(sshd, remote))
    proc = run_tunnel(env, tmp_path / "run_tunnel.log")
    with running(proc):
        wait_until(lambda: _state(name)["state"] == "connected", 30, "connected")
        assert get_through(remote, "/hello") == "upstream-ok /hello"

        status = manage("tunnel_status", "--name", name, **env)
        assert status.returncode == 0, status.stdout + status.stderr
        shown = json.loads(status.stdout)
        assert shown["url"] == f"http://127.0.0.1:{remote}/mcp"
        assert shown["holder"]["pid"] == proc.pid
        assert lease_info(url=env["TUNNEL_REDIS_URL"], name=name).holder["pid"] == proc.pid
        # Asked from a shell whose environment has no tunnel settings: still "enabled".
        elsewhere = json.loads(manage("tunnel_status", "--name", name, TUNNEL_BACKEND="off").stdout)
        assert elsewhere["enabled"] is True and elsewhere["state"] == "connected"

        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(15) == 0, proc.log()
    final = _state(name)
    assert final["state"] == "stopped"
    assert lease_info(url=env["TUNNEL_REDIS_URL"], name=name).holder is None
    assert get_through(remote) is None  # the far-side listener went with the connector
    assert manage("tunnel_status", "--name", name, **env).returncode == 1
    stopped = json.loads(manage("tunnel_status", "--name", name, TUNNEL_BACKEND="off").stdout)
    assert stopped["enabled"] is False
