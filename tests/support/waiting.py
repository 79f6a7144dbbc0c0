"""Waiting for something to become true (a port, an HTTP answer, a log line), bounded."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll check() until truthy and return its value; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def answers_http(url: str, host: str | None = None) -> bool:
    """Whether anything answers HTTP at `url` (any status)."""
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, headers={"Host": host} if host else {}, timeout=2.0, trust_env=False)
        return True
    return False


def accepts_tcp(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def wait_for(
    check: Callable[[], bool], timeout: float, what: str, proc: Any = None, interval: float = 0.1
) -> None:
    """wait_until for a process coming up: `proc.check()` (tests.support.processes.Proc) raises
    with its output as soon as it has died, instead of waiting out the timeout."""

    def up() -> bool:
        if proc is not None:
            proc.check()
        return check()

    try:
        wait_until(up, timeout, what, interval)
    except AssertionError as exc:
        raise RuntimeError(str(exc)) from None


def wait_for_http(
    url: str, timeout: float = 30.0, host: str | None = None, proc: Any = None
) -> None:
    wait_for(lambda: answers_http(url, host), timeout, f"{url} to answer", proc)


def wait_for_port(port: int, timeout: float = 20.0, proc: Any = None) -> None:
    wait_for(lambda: accepts_tcp(port), timeout, f"a listener on port {port}", proc, 0.05)


def listening(port: int) -> bool:
    """Whether something listens on loopback TCP `port` (asked of the kernel: no connection is
    made, so an sshd sees no half-open session)."""
    import psutil

    return any(
        c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
        for c in psutil.net_connections(kind="tcp4")
    )
