"""The processes under test: the web app (uvicorn), the reference server, the SSH edge and tunnel.

Started with the test suite's helpers (tests.support): one way to run a child process, wait for
it, and set up an OpenSSH edge."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.edges import Sshd, openssh_available, ssh_env
from tests.support.processes import Proc
from tests.support.servers import free_port, uvicorn_argv, uvicorn_options
from tests.support.waiting import wait_for_http, wait_for_port

__all__ = [
    "WEB_ARGS",
    "Proc",
    "openssh_available",
    "start_gunicorn",
    "start_noop",
    "start_reference",
    "start_tunnel",
    "start_web",
]

# Stated in the results: the web app is served by uvicorn on 127.0.0.1, one worker process
# (plus gunicorn as shipped, ops/gunicorn_conf.py, with two workers for scenario D2).
# As deployed: forwarded headers believed from nobody (TRUSTED_PROXIES is unset here).
WEB_EXTRA = ("--log-level", "warning")
WEB_ARGS = uvicorn_options(extra=WEB_EXTRA)  # as the report states them


def _proc(name: str, argv: list[str], env: dict[str, str], logdir: Path) -> Proc:
    return Proc(argv, env=env, log_path=logdir / f"{name}.log", name=name)


def _serve(name: str, argv: list[str], env: dict[str, str], logdir: Path, port: int) -> Proc:
    """Start a server process and wait until it answers HTTP on `port`."""
    proc = _proc(name, argv, env, logdir)
    wait_for_http(f"http://127.0.0.1:{port}/", timeout=60, proc=proc)
    return proc


def start_web(env: dict[str, str], logdir: Path, name: str = "web") -> tuple[Proc, str]:
    """One uvicorn process serving config.asgi:application (C, D, E, E', G, H, R)."""
    port = free_port()
    argv = uvicorn_argv("config.asgi:application", port, extra=("--workers", "1", *WEB_EXTRA))
    return _serve(name, argv, env, logdir, port), f"http://127.0.0.1:{port}"


def start_gunicorn(env: dict[str, str], logdir: Path, workers: int = 2) -> tuple[Proc, str]:
    """The shipped production server: gunicorn with ops/gunicorn_conf.py, `workers` workers."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:ops.gunicorn_conf"]
    argv += ["config.asgi:application"]
    gunicorn_env = {
        **env,
        "WEB_BIND": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
    }
    return _serve(f"gunicorn-{workers}w", argv, env=gunicorn_env, logdir=logdir, port=port), (
        f"http://127.0.0.1:{port}"
    )


def start_reference(
    env: dict[str, str], logdir: Path, dsn: str, tenant_id: int
) -> tuple[Proc, str]:
    port = free_port()
    ref_env = {**env, "REFERENCE_DSN": dsn, "REFERENCE_TENANT_ID": str(tenant_id)}
    argv = [sys.executable, "-m", "bench.reference_server", str(port)]
    return _serve("reference", argv, ref_env, logdir, port), f"http://127.0.0.1:{port}/mcp"


def start_noop(env: dict[str, str], logdir: Path) -> tuple[Proc, str]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.noop_server", str(port)]
    return _serve("noop", argv, env, logdir, port), f"http://127.0.0.1:{port}/mcp"


def _openssh_edge(
    workdir: Path, env: dict[str, str], logdir: Path, name: str
) -> tuple[Sshd, dict[str, str]]:
    """Debian's OpenSSH sshd on a loopback port, as the tunnel tests run it."""
    edge = Sshd(workdir).start()
    return edge, {k: v for k, v in ssh_env(edge, 0).items() if k != "TUNNEL_SSH_REMOTE_PORT"}


def _asyncssh_edge(
    workdir: Path, env: dict[str, str], logdir: Path, name: str
) -> tuple[Proc, dict[str, str]]:
    """The project's development edge (`manage.py tunnel_edge`, asyncssh)."""
    from tunnel_worker.edge import edge_client_env, edge_prepare

    port = free_port()
    files = edge_prepare(workdir, host="127.0.0.1", port=port)
    argv = [sys.executable, "manage.py", "tunnel_edge", "--port", str(port), "--dir", str(workdir)]
    dev_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DJANGO_DEBUG": "1"}
    proc = _proc(f"edge-{name}", argv, dev_env, logdir)
    wait_for_port(port, proc=proc)
    client = edge_client_env(files, host="127.0.0.1", port=port, remote_port=0)
    return proc, {k: v for k, v in client.items() if k != "TUNNEL_SSH_REMOTE_PORT"}


def start_tunnel(
    env: dict[str, str], logdir: Path, upstream: str, name: str, edge_kind: str
) -> tuple[list[Proc], str]:
    """An SSH edge and `manage.py run_tunnel` forwarding its far-side port to the web app.

    edge_kind: "asyncssh" (the project's `manage.py tunnel_edge`) or "openssh" (Debian's sshd,
    configured as tests/tunnel_worker does). Returns (edge, worker) and the far-side base URL.
    """
    workdir = logdir / f"edge-{edge_kind}"
    workdir.mkdir(exist_ok=True, mode=0o700)
    start = _openssh_edge if edge_kind == "openssh" else _asyncssh_edge
    edge, ssh = start(workdir, env, logdir, edge_kind)
    remote = free_port()
    tunnel_env = {
        **env,
        **ssh,
        "TUNNEL_BACKEND": "ssh",
        "TUNNEL_NAME": name,
        "TUNNEL_UPSTREAM": upstream,
        "TUNNEL_SSH_HOST": "127.0.0.1",
        "TUNNEL_SSH_REMOTE_BIND": "127.0.0.1",
        "TUNNEL_SSH_REMOTE_PORT": str(remote),
        "TUNNEL_CHECK_INTERVAL": "1",
    }
    argv = [sys.executable, "manage.py", "run_tunnel"]
    worker = _proc(f"tunnel_worker-{edge_kind}", argv, tunnel_env, logdir)
    url = f"http://127.0.0.1:{remote}"
    try:
        wait_for_http(url + "/", timeout=60, proc=worker)
    except Exception:
        worker.stop()
        edge.stop()
        raise
    return [edge, worker], url
