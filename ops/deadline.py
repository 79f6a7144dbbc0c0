"""Client-enforced deadlines for database waits.

PostgreSQL's statement_timeout is enforced by the server, so a frozen server (SIGSTOP, a network
that drops packets) never enforces it, and a thread blocked reading its socket would wait for
ever. Here the client enforces it: the outermost ASGI layer starts a per-request deadline
(`request_deadline`); every connection a request's threads check out of the pool is watched
(`watch`, called by ops.pgbackend); when the deadline passes while the connection is
still checked out, a watchdog thread shuts the connection's socket down. The blocked call then
fails at once with an OperationalError, which the interfaces already turn into "cannot be
confirmed" (MCP) or 503 (REST), and the thread is free again: hung calls cannot exhaust the
server's thread pools. The broken connection is discarded when it goes back to the pool.

The pool's own health check and reset run before/after Django sees the connection; they are
bounded the same way (`bounded`), by the request's deadline or by CHECK_SECONDS outside a request.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

CHECK_SECONDS = 3.0  # the pool's check/reset outside any request deadline
TICK = 0.05

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "db_deadline", default=None
)


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[float]:
    """Every database wait in this context (and the threads it starts) ends `seconds` from now."""
    expires = time.monotonic() + seconds
    token = _deadline.set(expires)
    try:
        yield expires
    finally:
        _deadline.reset(token)


def current() -> float | None:
    """The monotonic time at which this context's database waits are cut, if any."""
    return _deadline.get()


class _Watchdog:
    """One daemon thread cutting the sockets of connections held past their deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], int | None]]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, expires: float, target: Callable[[], int | None]) -> None:
        """At `expires`, shut down the socket `target()` names (None: nothing to cut any more)."""
        with self._lock:
            heapq.heappush(self._heap, (expires, next(self._order), target))
            earliest = self._heap[0][2] is target
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="db-deadline", daemon=True)
                self._thread.start()
        if earliest:  # otherwise the thread already wakes in time for it: no thread switch
            self._wake.set()

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            due: list[Callable[[], int | None]] = []
            with self._lock:
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
                wait = self._heap[0][0] - now if self._heap else 1.0
            for target in due:
                _cut(target)
            self._wake.wait(min(max(wait, TICK), 1.0))
            self._wake.clear()


def _cut(target: Callable[[], int | None]) -> None:
    try:
        fd = target()
    except Exception:  # a connection object in an odd state: nothing to cut
        return
    if fd is None or fd < 0:
        return
    logger.warning("database wait passed its deadline: connection cut (fd %s)", fd)
    # fromfd() duplicates the descriptor; shutdown() acts on the socket both share.
    with (
        contextlib.suppress(OSError),
        socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as sock,
    ):
        sock.shutdown(socket.SHUT_RDWR)


_watchdog = _Watchdog()


def _socket_of(conn: Any) -> int | None:
    """The psycopg connection's socket, or None once it is closed."""
    if conn is None or conn.closed:
        return None
    return int(conn.pgconn.socket)


def watch(wrapper: Any, conn: Any) -> None:
    """Cut `conn` at this context's deadline if `wrapper` (a Django connection) still holds it.

    Django checks a pooled connection out (connect) and back in (close) once per request or
    tenant block; `wrapper.checkouts` tells one checkout from a later one of the same object.
    """
    expires = current()
    if expires is None:
        return
    checkout = wrapper.checkouts

    def target() -> int | None:
        if wrapper.connection is not conn or wrapper.checkouts != checkout:
            return None
        return _socket_of(conn)

    _watchdog.add(expires, target)


def bounded(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    """Wrap a pool callback (check, reset) so a frozen server cannot hold it past the deadline."""

    def call(conn: Any) -> None:
        expires = current() or time.monotonic() + CHECK_SECONDS
        done = threading.Event()
        _watchdog.add(expires, lambda: None if done.is_set() else _socket_of(conn))
        try:
            fn(conn)
        finally:
            done.set()

    call.__name__ = getattr(fn, "__name__", "bounded")
    return call
