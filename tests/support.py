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
from urllib.parse import quote

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

    def __init__(
        self, app: str = "config.asgi:application", *, access_log: bool = False, **env: str
    ) -> None:
        self.app = app
        self.access_log = access_log
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
                self.app,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--access-log" if self.access_log else "--no-access-log",
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
def live_server(
    app: str = "config.asgi:application", *, access_log: bool = False, **env: str
) -> Iterator[LiveServer]:
    server = LiveServer(app, access_log=access_log, **env).start()
    try:
        yield server
    finally:
        server.stop()


class TcpProxy:
    """A loopback TCP proxy to (host, port) or a unix socket path; stop() cuts it, so the
    target (PostgreSQL, in the outage tests) looks gone to whoever connects through it.
    freeze() blackholes it instead: connections stay open and accepted, nothing is forwarded
    (like a frozen server or a network dropping packets) until thaw()."""

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
        """Hold every byte in both directions (what was sent arrives after thaw())."""
        self._flowing.clear()

    def thaw(self) -> None:
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
            try:
                upstream = self._connect_target()
            except OSError:
                client.close()
                continue
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


def _db() -> dict:
    from django.conf import settings

    return settings.DATABASES["default"]  # type: ignore[no-any-return]


def _db_host() -> str:
    """The server's host, or its socket directory (embedded pgserver puts it in OPTIONS)."""
    db = _db()
    return str(db.get("HOST") or db.get("OPTIONS", {}).get("host") or "")


def db_conninfo() -> dict[str, object]:
    """psycopg.connect() arguments for the test database (a session outside Django's)."""
    db = _db()
    info: dict[str, object] = {"dbname": db["NAME"], "user": db.get("USER") or "postgres"}
    if _db_host():
        info["host"] = _db_host()
    for key in ("PORT", "PASSWORD"):
        if db.get(key):
            info[key.lower()] = db[key]
    return info


@contextlib.contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Hold ACCESS EXCLUSIVE on `table` from another session, so any read of it blocks."""
    import psycopg

    with psycopg.connect(**db_conninfo()) as conn:  # type: ignore[arg-type]
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def db_proxy_target() -> tuple[str, int] | str:
    """Where PostgreSQL listens, for a TcpProxy: (host, port) or the unix socket's path."""
    host, port = _db_host() or "127.0.0.1", int(_db().get("PORT") or 5432)
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)


def database_url_via(port: int) -> str:
    """A DATABASE_URL for the test database through a loopback proxy on `port`."""
    db = _db()
    auth = quote(db.get("USER") or "postgres", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@127.0.0.1:{port}/{db['NAME']}"
