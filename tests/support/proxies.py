"""Proxies a test puts between a client and a server: a TCP proxy that can be cut or frozen (the
database "goes away"), and an HTTP proxy that adds headers a client cannot send itself."""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import quote

import httpx

from tests.support.servers import BackgroundHTTPServer, QuietHandler


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


def database_proxy() -> TcpProxy:
    """A cuttable TCP route to the test database, socket or TCP."""
    from ops.dbconn import socket_path_or_address

    return TcpProxy(socket_path_or_address())


class HeaderProxy(BackgroundHTTPServer):
    """An HTTP proxy on 127.0.0.1 that adds fixed headers (a bearer token) to every request and
    passes everything else through unchanged, Host and Origin included: for clients that cannot
    send an Authorization header themselves (the MCP conformance suite)."""

    def __init__(self, upstream: str, headers: dict[str, str]) -> None:
        owner = self
        self.upstream = upstream.rstrip("/")
        self.headers = headers
        self.client = httpx.Client(timeout=60, trust_env=False)

        class Handler(QuietHandler):
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

        super().__init__(Handler)

    def close(self) -> None:
        super().close()
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
