"""The shipped gunicorn configuration with two workers: what every worker process guarantees.

- A token revoked by an operator (`manage.py revoke_token`, another process) is refused by
  every worker within 1 s, although each worker caches verified tokens (ops.invalidation).
- Every accepted connection has TCP_NODELAY set (without it a response written in two parts
  waits for the client's delayed ACK: +40 ms per POST).
- A token's rate counts its calls on every worker (each decides in memory and adds its calls to
  the shared counter every FLUSH_SECONDS, tenancy.ratelimit).

Which worker serves a connection is read from the kernel (the workers' own sockets), so the
tests know they covered both workers instead of hoping that they did.
"""

import contextlib
import ctypes
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.api.conftest import ALPHA
from tests.support import Proc, free_port, manage, running, subprocess_env, wait_for_http

WORKERS = 2
REVOCATION_DEADLINE = 1.0  # seconds: the issue's bound for every worker to refuse the token
SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438  # Linux >= 5.6, the same number on every arch


@contextlib.contextmanager
def _gunicorn(**env: str) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"gunicorn-{port}.log"
    env = subprocess_env(WEB_BIND="127.0.0.1", PORT=str(port), WEB_CONCURRENCY=str(WORKERS), **env)
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:ops.gunicorn_conf"]
    proc = Proc([*argv, "config.asgi:application"], env=env, log_path=log, name="gunicorn")
    url = f"http://127.0.0.1:{port}"
    with running(proc):
        wait_for_http(url + "/healthz", timeout=90)
        yield url, psutil.Process(proc.pid)


@pytest.fixture(scope="module")
def gunicorn(tenant_a) -> Iterator[tuple[str, psutil.Process]]:  # noqa: ANN001
    with _gunicorn() as server:
        yield server


def _issue(name: str) -> str:
    scopes = ("--scope", "stock:read", "--scope", "mcp")
    issued = manage("issue_token", "--tenant", "alpha", "--name", name, *scopes)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def _server_side(master: psutil.Process, client_port: int) -> tuple[int, int]:
    """(worker pid, file descriptor) of the accepted socket whose peer is `client_port`."""
    for worker in master.children():
        for conn in worker.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == client_port:
                return worker.pid, conn.fd
    raise AssertionError(f"no worker holds the connection from port {client_port}")


@contextlib.contextmanager
def _connections_on_every_worker(
    url: str, master: psutil.Process, token: str
) -> Iterator[list[tuple[int, httpx.Client]]]:
    """Keep-alive clients that made one good call each, until every worker holds at least one."""
    headers = {"Host": ALPHA, "Authorization": f"Bearer {token}"}
    clients: list[tuple[int, httpx.Client]] = []
    try:
        for _ in range(200):
            client = httpx.Client(base_url=url, headers=headers, timeout=30)
            assert client.get("/api/v1/items").status_code == 200
            local_port = _local_port(client)
            clients.append((_server_side(master, local_port)[0], client))
            if len({pid for pid, _ in clients}) == WORKERS:
                break
        assert len({pid for pid, _ in clients}) == WORKERS, "connections never reached both"
        yield clients
    finally:
        for _, client in clients:
            client.close()


def _local_port(client: httpx.Client) -> int:
    """The client port of the one connection in `client`'s pool."""
    pool = client._transport._pool  # type: ignore[attr-defined]
    (conn,) = pool.connections
    sock = conn._connection._network_stream.get_extra_info("socket")
    return int(sock.getsockname()[1])


def test_a_revoked_token_is_refused_by_every_worker_within_a_second(gunicorn) -> None:  # noqa: ANN001
    url, master = gunicorn
    token = _issue(f"two-workers-{uuid.uuid4().hex[:8]}")
    with _connections_on_every_worker(url, master, token) as clients:
        # Every worker has verified (and cached) the token; now an operator revokes it.
        for _, client in clients:
            assert client.get("/api/v1/items").status_code == 200
            assert _mcp_list(client).status_code == 200
        revoked = manage("revoke_token", token.split("_")[1])
        assert revoked.returncode == 0, revoked.stderr
        # The revocation committed before the command exited; a request sent 1 s later is
        # refused by whichever worker serves it, over the connection it already held.
        time.sleep(REVOCATION_DEADLINE)
        answers = {pid: client.get("/api/v1/items").status_code for pid, client in clients}
        mcp = {pid: _mcp_list(client).status_code for pid, client in clients}
    assert set(answers.values()) == {401}, answers
    assert set(mcp.values()) == {401}, mcp
    assert len(answers) == WORKERS


def _mcp_list(client: httpx.Client) -> httpx.Response:
    """tools/list on /mcp (stateless: no session needed), through the same token cache."""
    return client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": "application/json, text/event-stream"},
    )


def _duplicate_fd(pid: int, fd: int) -> int:
    """A copy, in this process, of another process's file descriptor (pidfd_getfd(2))."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        pytest.fail(f"pidfd_open: {os.strerror(ctypes.get_errno())} (Linux >= 5.6 needed)")
    try:
        copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if copy < 0:
            pytest.fail(f"pidfd_getfd: {os.strerror(ctypes.get_errno())} (needs ptrace rights)")
        return int(copy)
    finally:
        os.close(pidfd)


def test_every_worker_accepts_connections_with_tcp_nodelay(gunicorn) -> None:  # noqa: ANN001
    url, master = gunicorn
    token = _issue(f"nodelay-{uuid.uuid4().hex[:8]}")
    with _connections_on_every_worker(url, master, token) as clients:
        flags = {}
        for _, client in clients:
            pid, fd = _server_side(master, _local_port(client))
            with socket.socket(fileno=_duplicate_fd(pid, fd)) as accepted:
                flags[pid] = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert len(flags) == WORKERS
    assert all(flags.values()), flags


def test_a_tokens_rate_counts_its_calls_on_every_worker(tenant_a) -> None:  # noqa: ANN001
    """Calls spread over both workers, one every 2 x FLUSH_SECONDS: each worker has learned
    the other's calls before it decides, so the rate holds exactly across processes."""
    from tenancy.ratelimit import FLUSH_SECONDS

    rate = 20
    if time.time() % 3600 > 3600 - 60:  # an hourly window would reset during the test
        time.sleep(3600 - time.time() % 3600 + 1)
    with _gunicorn(API_RATE=f"{rate}/hour") as (url, master):
        token = _issue(f"rate-{uuid.uuid4().hex[:8]}")
        with _connections_on_every_worker(url, master, token) as clients:
            admitted: dict[int, int] = {}
            for pid, _ in clients:  # one call each, made to place it on a worker
                admitted[pid] = admitted.get(pid, 0) + 1
            statuses = []
            for i in range(3 * rate):
                time.sleep(2 * FLUSH_SECONDS)
                pid, client = clients[i % len(clients)]
                response = client.get("/api/v1/items")
                statuses.append(response.status_code)
                if response.status_code == 200:
                    admitted[pid] += 1
                else:
                    assert response.status_code == 429, response.text
                    assert int(response.headers["Retry-After"]) >= 1
    assert sum(admitted.values()) == rate, (admitted, statuses)
    assert len(admitted) == WORKERS and all(n > 1 for n in admitted.values()), admitted
    first_refusal = statuses.index(429)
    assert set(statuses[first_refusal:]) == {429}, statuses  # none admitted after the first 429
