"""The development edge (`manage.py tunnel_edge`) and the worker dialing it, as `make run` does."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tests.support import (
    ROOT,
    Proc,
    Upstream,
    free_port,
    manage,
    running,
    subprocess_env,
    unique_name,
    wait_until,
)
from tests.tunnel_worker.support import get_through, run_tunnel, tunnel_env
from tunnel_worker.selectors import tunnel_state


def _exports(text: str) -> dict[str, str]:
    pairs = [shlex.split(line.removeprefix("export "))[0] for line in text.splitlines()]
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def test_worker_dials_the_demo_edge(upstream: Upstream, tmp_path: Path):
    port, remote, keys = free_port(), free_port(), str(tmp_path / "edge")
    args = ["--port", str(port), "--remote-port", str(remote), "--dir", keys]
    printed = manage("tunnel_edge", *args, "--print-env")
    assert printed.returncode == 0, printed.stderr
    client = _exports(printed.stdout)
    assert client["TUNNEL_SSH_KNOWN_HOSTS"].startswith(keys)

    dev = subprocess_env(DJANGO_SETTINGS_MODULE="config.settings.dev")
    argv = [sys.executable, str(ROOT / "manage.py"), "tunnel_edge", *args]
    edge = Proc(argv, env=dev, log_path=tmp_path / "edge.log")
    name = unique_name("demo")
    worker = run_tunnel(tunnel_env(name, upstream, **client), tmp_path / "worker.log")
    with running(worker, edge):
        wait_until(lambda: tunnel_state(name)["state"] == "connected", 30, "demo tunnel up")
        assert get_through(remote) == "upstream-ok /hello"
        assert tunnel_state(name)["url"] == f"http://127.0.0.1:{remote}/mcp"
        assert "agent-side URL once the tunnel is up" in edge.log()


def test_demo_edge_refuses_without_debug():
    result = manage("tunnel_edge", "--port", str(free_port()))
    assert result.returncode != 0
    assert "development tool" in result.stderr
