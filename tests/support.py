"""Helpers for tests that drive the service through its real interfaces."""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a command or server that must see the test database."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def manage(
    *args: str, input: str | None = None, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `manage.py <args>` as an operator would, against the test database."""
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=subprocess_env(**env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30.0, host: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Host": host} if host else {}
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, headers=headers, timeout=2.0)
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


class LiveServer:
    """A uvicorn process serving config.asgi:application on a free loopback port."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"uvicorn-{self.port}.log"
        self._env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "LiveServer":
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--lifespan",
                "on",
            ],
            cwd=ROOT,
            env=subprocess_env(**self._env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_http(self.url + "/", timeout=60)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def live_server(**env: str) -> Iterator[LiveServer]:
    server = LiveServer(**env).start()
    try:
        yield server
    finally:
        server.stop()


class TcpProxy:
    """A loopback TCP proxy to (host, port) or a unix socket path; stop() cuts it, so the
    target (PostgreSQL, in the outage tests) looks gone to whoever connects through it.

    freeze() stops forwarding without closing anything, as a network that drops packets: open
    connections stay up and new ones are accepted, but no byte moves (no error, no reset) until
    thaw(), which delivers what was held and resumes.
    """

    def __init__(self, target: tuple[str, int] | str) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._flowing = threading.Event()
        self._flowing.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        """Stop moving bytes (both directions, old and new connections); nothing is closed."""
        self._flowing.clear()

    def thaw(self) -> None:
        """Resume forwarding, held bytes first."""
        self._flowing.set()

    def _connect_target(self) -> socket.socket:
        if isinstance(self.target, str):
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            return upstream
        upstream = socket.create_connection(self.target, timeout=5)
        upstream.settimeout(None)
        return upstream

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._open, args=(client,), daemon=True).start()

    def _open(self, client: socket.socket) -> None:
        self._flowing.wait()  # frozen: accepted, but the target hears nothing yet
        if self._stopped:
            client.close()
            return
        try:
            upstream = self._connect_target()
        except OSError:
            client.close()
            return
        with self._lock:
            self._conns += [client, upstream]
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                self._flowing.wait()
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
        self._flowing.set()  # release threads held by a freeze: their sockets are closed now
