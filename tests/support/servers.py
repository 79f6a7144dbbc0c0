"""Servers the tests talk to: the service itself under uvicorn (LiveServer), and small HTTP
servers standing in for what the service talks to (a webhook receiver, a tunnel upstream)."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

from ops.proxies import forwarded_allow_ips
from tests.support.processes import Proc, subprocess_env
from tests.support.waiting import wait_for_http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn_options(
    *, access_log: bool = False, forwarded: str = "", extra: tuple = ()
) -> list[str]:
    """uvicorn's options as deployed: lifespan on, and forwarded headers believed only from
    `forwarded` (TRUSTED_PROXIES; "" trusts nobody, where uvicorn would trust loopback)."""
    options = ["--access-log" if access_log else "--no-access-log", "--lifespan", "on"]
    return options + [*extra, "--forwarded-allow-ips", forwarded]


def uvicorn_argv(app: str, port: int, **options: Any) -> list[str]:
    """uvicorn serving `app` on 127.0.0.1:`port` (options: `uvicorn_options`)."""
    argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    return argv + uvicorn_options(**options)


class LiveServer:
    """A uvicorn process serving config.asgi:application on a free loopback port; started once
    `ready_path` answers (/healthz for a server whose database may be gone)."""

    def __init__(
        self,
        app: str = "config.asgi:application",
        *,
        access_log: bool = False,
        ready_path: str = "/",
        **env: str,
    ) -> None:
        self.app = app
        self.access_log = access_log
        self.ready_path = ready_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"uvicorn-{self.port}.log"
        self._env = env
        self.proc: Proc | None = None

    def start(self) -> LiveServer:
        env = subprocess_env(**self._env)
        argv = uvicorn_argv(
            self.app, self.port, access_log=self.access_log, forwarded=forwarded_allow_ips(env)
        )
        self.proc = Proc(argv, env=env, log_path=self.log_path, name=f"uvicorn {self.port}")
        try:  # a server that never answers is stopped, not left running
            wait_for_http(self.url + self.ready_path, timeout=60, proc=self.proc)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate(15)

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


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that does not log each request to stderr."""

    def log_message(self, *args: Any) -> None:
        pass


class BackgroundHTTPServer:
    """A ThreadingHTTPServer on 127.0.0.1 serving `handler` from a daemon thread."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WebhookReceiver(BackgroundHTTPServer):
    """Records POSTs (headers and JSON body); the first `fail_first` answer 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_first = fail_first
        self._lock = threading.Lock()
        owner = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner._lock:
                    owner.attempts += 1
                    failing = owner.attempts <= owner.fail_first
                    if not failing:
                        owner.received.append(
                            {"headers": dict(self.headers), "body": json.loads(body)}
                        )
                self.send_response(503 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(Handler)
        self.url = f"http://127.0.0.1:{self.port}/hooks/low-stock"


class Upstream(BackgroundHTTPServer):
    """Stands in for the web app behind the tunnel: GET answers `upstream-ok <path>`."""

    def __init__(self) -> None:
        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = f"upstream-ok {self.path}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)
        self.url = f"http://127.0.0.1:{self.port}"
