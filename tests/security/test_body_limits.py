"""Request bodies are capped before anything reads them, on every path: a 60 MiB body, declared
or streamed (chunked), is answered 413 in the one error shape while most of it is still unsent.

Before the fix Django read the whole body (before any auth) on every Django path.
"""

from __future__ import annotations

import json
import select
import socket
import time

import pytest

from tests.support import LiveServer

SIXTY_MIB = 60 * 1024 * 1024
CHUNK = 64 * 1024
PATHS = [
    ("/api/v1/movements", "alpha.localhost"),
    ("/api/v1/items", "alpha.localhost"),
    ("/admin/login/", "alpha.localhost"),
    ("/admin/login/", "localhost"),
    ("/mcp", "alpha.localhost"),
    ("/", "localhost"),
    ("/healthz", "localhost"),
]


def _connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
    return sock


def _head(path: str, host: str, length_header: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer inv_nothing_here\r\n{length_header}\r\n\r\n"
    ).encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def _assert_413(status: int, body: bytes) -> None:
    assert status == 413, body[:300]
    error = json.loads(body)["error"]
    assert error["code"] == "request_too_large" and set(error) == {"code", "message", "fields"}


@pytest.mark.parametrize(("path", "host"), PATHS)
def test_declared_60_mib_is_refused_before_the_body_is_sent(server, path, host) -> None:  # noqa: ANN001
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(_head(path, host, f"Content-Length: {SIXTY_MIB}"))  # and not one body byte
        status, _, body = _read_response(sock)
    assert time.monotonic() - started < 5
    _assert_413(status, body)


# The probes answer without reading a body at all, so only a declared length is refused there.
@pytest.mark.parametrize(("path", "host"), [p for p in PATHS if p[0] != "/healthz"])
def test_chunked_60_mib_is_refused_while_streaming(server, path, host) -> None:  # noqa: ANN001
    payload = f"{CHUNK:x}\r\n".encode() + b"[" * CHUNK + b"\r\n"
    sent = 0
    with _connect(server) as sock:
        sock.sendall(_head(path, host, "Transfer-Encoding: chunked"))
        while sent < SIXTY_MIB:
            readable, writable, _ = select.select([sock], [sock], [], 5)
            if readable:
                break
            assert writable, "the server neither reads nor answers"
            try:
                sock.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += CHUNK
        status, _, body = _read_response(sock)
    _assert_413(status, body)
    assert sent < 16 * 1024 * 1024, sent  # answered long before 60 MiB were sent


def test_per_route_cap_lets_admin_uploads_be_larger(server) -> None:  # noqa: ANN001
    # /admin/ is capped at 10 MiB (REQUEST_BODY_CAPS), the API at 64 KiB.
    one_mib = 1024 * 1024
    for path, expect_413 in (("/admin/login/", False), ("/api/v1/items", True)):
        with _connect(server) as sock:
            sock.sendall(_head(path, "alpha.localhost", f"Content-Length: {one_mib}"))
            if not expect_413:
                sock.sendall(b"x" * one_mib)
            status, _, body = _read_response(sock)
        assert (status == 413) is expect_413, (path, status, body[:200])
    with _connect(server) as sock:
        sock.sendall(_head("/admin/login/", "alpha.localhost", f"Content-Length: {11 * one_mib}"))
        _assert_413(*_read_response(sock)[::2])
