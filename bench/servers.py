"""The processes under test: the web app (uvicorn), the reference server, the SSH edge and tunnel."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"

# Stated in the results: the web app is served by uvicorn on 127.0.0.1, one worker process
# (plus gunicorn as shipped, ops/gunicorn_conf.py, with two workers for scenario D2).
# As deployed: forwarded headers believed from nobody (TRUSTED_PROXIES is unset here).
WEB_ARGS = [
    "--no-access-log",
    "--lifespan",
    "on",
    "--log-level",
    "warning",
    "--forwarded-allow-ips",
    "",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proc:
    """A child process with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(5)

    def check(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{tail}")


def wait_http(proc: Proc, url: str, host: str | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Host": host} if host else {}
    while time.monotonic() < deadline:
        proc.check()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, headers=headers, timeout=2, trust_env=False)
            return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name}: {url} did not answer within {timeout:.0f}s")


def start_web(env: dict[str, str], logdir: Path, name: str = "web") -> tuple[Proc, str]:
    """One uvicorn process serving config.asgi:application (C, D, E, E', G, H, R)."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", "1", *WEB_ARGS]
    proc = Proc(name, argv, env, logdir)
    url = f"http://127.0.0.1:{port}"
    wait_http(proc, url + "/")
    return proc, url


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
    proc = Proc(f"gunicorn-{workers}w", argv, gunicorn_env, logdir)
    url = f"http://127.0.0.1:{port}"
    wait_http(proc, url + "/")
    return proc, url


def start_reference(
    env: dict[str, str], logdir: Path, dsn: str, tenant_id: int
) -> tuple[Proc, str]:
    port = free_port()
    ref_env = {**env, "REFERENCE_DSN": dsn, "REFERENCE_TENANT_ID": str(tenant_id)}
    argv = [sys.executable, "-m", "bench.reference_server", str(port)]
    proc = Proc("reference", argv, ref_env, logdir)
    url = f"http://127.0.0.1:{port}"
    wait_http(proc, url + "/")
    return proc, url + "/mcp"


def start_noop(env: dict[str, str], logdir: Path) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc("noop", [sys.executable, "-m", "bench.noop_server", str(port)], env, logdir)
    url = f"http://127.0.0.1:{port}"
    wait_http(proc, url + "/")
    return proc, url + "/mcp"


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return Path(f"{path}.pub").read_text().strip()


def _openssh_edge(
    workdir: Path, env: dict[str, str], logdir: Path, name: str
) -> tuple[Proc, dict[str, str]]:
    """Debian's OpenSSH sshd on a loopback port, configured as tests/tunnel_worker does."""
    import getpass

    port, user = free_port(), getpass.getuser()
    host_key, client_key = workdir / "host_key", workdir / "client_key"
    host_pub = _keygen(host_key)
    (workdir / "authorized_keys").write_text(_keygen(client_key) + "\n")
    (workdir / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {workdir / 'authorized_keys'}",
                f"AllowUsers {user}",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "PermitTTY no",
                "AllowTcpForwarding remote",
                "GatewayPorts no",
                "PidFile none",
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = Proc(f"edge-{name}", [SSHD, "-D", "-e", "-f", str(config)], env, logdir)
    _wait_port(proc, port)
    return proc, {
        "TUNNEL_SSH_PORT": str(port),
        "TUNNEL_SSH_USER": user,
        "TUNNEL_SSH_KEY_FILE": str(client_key),
        "TUNNEL_SSH_KNOWN_HOSTS": str(workdir / "known_hosts"),
    }


def _asyncssh_edge(
    workdir: Path, env: dict[str, str], logdir: Path, name: str
) -> tuple[Proc, dict[str, str]]:
    """The project's development edge (`manage.py tunnel_edge`, asyncssh)."""
    from tunnel_worker.edge import edge_client_env, edge_prepare

    port = free_port()
    files = edge_prepare(workdir, host="127.0.0.1", port=port)
    argv = [sys.executable, "manage.py", "tunnel_edge", "--port", str(port), "--dir", str(workdir)]
    dev_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DJANGO_DEBUG": "1"}
    proc = Proc(f"edge-{name}", argv, dev_env, logdir)
    _wait_port(proc, port)
    client = edge_client_env(files, host="127.0.0.1", port=port, remote_port=0)
    return proc, {k: v for k, v in client.items() if k != "TUNNEL_SSH_REMOTE_PORT"}


def openssh_available() -> bool:
    return Path(SSHD).exists() and bool(shutil.which("ssh-keygen")) and os.geteuid() == 0


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
    worker = Proc(f"tunnel_worker-{edge_kind}", argv, tunnel_env, logdir)
    url = f"http://127.0.0.1:{remote}"
    try:
        wait_http(worker, url + "/", timeout=60)
    except Exception:
        worker.stop()
        edge.stop()
        raise
    return [edge, worker], url


def _wait_port(proc: Proc, port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not listen on {port} within {timeout:.0f}s")
