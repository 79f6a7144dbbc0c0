"""Helpers for tests that drive the service through its real interfaces."""

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ops.proxies import forwarded_allow_ips

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


def node_tool(name: str) -> tuple[Path, dict[str, str]]:
    """(launcher, environment with Node >= 22 on PATH) for an npm tool that `make test-deps`
    installed (tests/deps.py); fails the test, saying how to fix it, when it is missing."""
    import pytest

    from tests import deps

    if not deps.node_ready():
        pytest.fail(
            f"{name} and Node >= 22 are not installed in {deps.NODE_DIR}: run `make test-deps`"
        )
    return deps.NODE_DIR / "node_modules" / ".bin" / name, deps.node_env()


def leftover_children(grace: float = 10.0, children: list[Any] | None = None) -> list[str]:
    """Kill `children` (default: all of this process's descendants) that are still alive after
    `grace` seconds; describe them.

    Called once at the end of the session, after every fixture has stopped what it started."""
    import psutil

    if children is None:
        children = psutil.Process().children(recursive=True)
    _, alive = psutil.wait_procs(children, timeout=grace)
    described = []
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            described.append(f"pid {proc.pid}: {' '.join(proc.cmdline())[:200]}")
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    return described


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
                # As deployed: forwarded headers only from TRUSTED_PROXIES (default: nobody).
                "--forwarded-allow-ips",
                forwarded_allow_ips(subprocess_env(**self._env)),
            ],
            cwd=ROOT,
            env=subprocess_env(**self._env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready(self.url + "/")
        return self

    def wait_ready(self, url: str) -> None:
        """Wait for `url` to answer; a server that never does is stopped, not left running."""
        try:
            wait_for_http(url, timeout=60)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log(self, since: int = 0) -> str:
        """The server's output, from byte offset `since` (a `log_mark()`) on."""
        return self.log_path.read_bytes()[since:].decode(errors="replace")

    def log_mark(self) -> int:
        """Where the log ends now: `log(since=mark)` is what a test's own requests wrote (the
        session server is shared, and other tests' outages leave their own lines)."""
        return self.log_path.stat().st_size


@contextlib.contextmanager
def live_server(
    app: str = "config.asgi:application", *, access_log: bool = False, **env: str
) -> Iterator[LiveServer]:
    server = LiveServer(app, access_log=access_log, **env)
    try:
        yield server.start()
    finally:
        server.stop()


def admin_session(
    base_url: str, host: str, username: str, password: str, **headers: str
) -> tuple[httpx.Client, httpx.Response]:
    """Log in to the admin on `host` through its login form, as a browser would.

    Returns the client (holding the session cookie when the login worked) and the login answer:
    302 for a login that worked, 200 (the form again) for one that did not.
    """
    client = httpx.Client(
        base_url=base_url, headers={"Host": host, **headers}, follow_redirects=False, timeout=30
    )
    page = client.get("/admin/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, f"no login form on {host}: {page.status_code} {page.text[:300]}"
    answer = client.post(
        "/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": match.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        },
    )
    return client, answer


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

    def close(self) -> None:
        self.stop()

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


def database_url_via(port: int, dbname: str | None = None) -> str:
    """A DATABASE_URL for the test database reached over TCP on 127.0.0.1:`port` (a TcpProxy in
    front of wherever Django's own settings say PostgreSQL is: unix socket or TCP)."""
    from ops.dbconn import psycopg_conninfo

    params = psycopg_conninfo()
    auth = quote(str(params.get("user") or "postgres"), safe="")
    if params.get("password"):
        auth += ":" + quote(str(params["password"]), safe="")
    return f"postgres://{auth}@127.0.0.1:{port}/{dbname or params['dbname']}"


def database_proxy() -> "TcpProxy":
    """A cuttable TCP route to the test database, socket or TCP."""
    from ops.dbconn import socket_path_or_address

    return TcpProxy(socket_path_or_address())


class HeaderProxy:
    """An HTTP proxy on 127.0.0.1 that adds fixed headers (a bearer token) to every request and
    passes everything else through unchanged, Host and Origin included: for clients that cannot
    send an Authorization header themselves (the MCP conformance suite)."""

    def __init__(self, upstream: str, headers: dict[str, str]) -> None:
        import http.server

        owner = self
        self.upstream = upstream.rstrip("/")
        self.headers = headers
        self.client = httpx.Client(timeout=60, trust_env=False)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sent = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                response = owner.client.request(
                    self.command,
                    owner.upstream + self.path,
                    headers={**sent, **owner.headers},
                    content=body,
                )
                self.send_response(response.status_code)
                for key, value in response.headers.multi_items():
                    if key.lower() not in _HOP_BY_HOP | {"content-length", "content-encoding"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _forward  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()


_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
    }
)


@contextlib.contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Hold ACCESS EXCLUSIVE on `table` from another session, so any read of it blocks."""
    import psycopg

    from ops.dbconn import psycopg_conninfo

    with psycopg.connect(**psycopg_conninfo()) as conn:
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()
