"""SSH reverse forward with asyncssh in-process: host key verified, keepalive with a timeout."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncssh

from tunnel_worker.connectors.base import Connector, ConnectorError

logger = logging.getLogger(__name__)


class _Client(asyncssh.SSHClient):
    """Remembers why the connection was lost, for the stored last_error."""

    def __init__(self) -> None:
        self.lost: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(f"ssh connection lost: {exc or 'closed by the edge'}")


class SshConnector(Connector):
    """Dial the edge, ask it to listen on SSH_REMOTE_BIND:SSH_REMOTE_PORT, forward to UPSTREAM.

    The listener lives inside this process, so it dies with it (no orphan on SIGKILL).
    """

    def __init__(self, conf) -> None:  # type: ignore[no-untyped-def]
        super().__init__(conf)
        self._conn: asyncssh.SSHClientConnection | None = None
        self._client: _Client | None = None
        self._listener: asyncssh.SSHListener | None = None

    def _options(self) -> dict:
        conf = self.conf
        if not conf.SSH_KNOWN_HOSTS or not Path(conf.SSH_KNOWN_HOSTS).is_file():
            raise ConnectorError(
                f"TUNNEL_SSH_KNOWN_HOSTS must name a known_hosts file with the edge's host key "
                f"(got {conf.SSH_KNOWN_HOSTS!r}); host keys are never skipped",
                operator_needed=True,
            )
        if not conf.SSH_KEY_FILE or not Path(conf.SSH_KEY_FILE).is_file():
            raise ConnectorError(
                f"TUNNEL_SSH_KEY_FILE {conf.SSH_KEY_FILE!r} is not a readable key file",
                operator_needed=True,
            )
        return {
            "port": conf.SSH_PORT,
            "username": conf.SSH_USER,
            "client_keys": [conf.SSH_KEY_FILE],
            "known_hosts": conf.SSH_KNOWN_HOSTS,
            "agent_path": None,
            "password": None,
            "kbdint_auth": False,
            "preferred_auth": "publickey",
            "config": [],  # ~/.ssh/config must not change what the worker does
            "keepalive_interval": conf.SSH_KEEPALIVE_INTERVAL,
            "keepalive_count_max": conf.SSH_KEEPALIVE_COUNT_MAX,
            "connect_timeout": conf.SSH_CONNECT_TIMEOUT,
            "login_timeout": conf.SSH_CONNECT_TIMEOUT,
        }

    async def start(self) -> None:
        options = self._options()
        try:
            self._conn, client = await asyncssh.create_connection(
                _Client, self.conf.SSH_HOST, **options
            )
            assert isinstance(client, _Client)
            self._client = client
        except asyncssh.PermissionDenied as exc:
            raise ConnectorError(
                f"ssh authentication failed for {self.conf.SSH_USER}@{self.conf.SSH_HOST}: "
                f"{exc.reason}",
                operator_needed=True,
            ) from exc
        except asyncssh.HostKeyNotVerifiable as exc:
            raise ConnectorError(
                f"ssh host key of {self.conf.SSH_HOST}:{self.conf.SSH_PORT} not verified against "
                f"{self.conf.SSH_KNOWN_HOSTS}: {exc.reason}",
                operator_needed=True,
            ) from exc
        except (asyncssh.KeyImportError, asyncssh.KeyExchangeFailed) as exc:
            raise ConnectorError(f"ssh key problem: {exc}", operator_needed=True) from exc
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            raise ConnectorError(f"ssh connect to {self._target()} failed: {_text(exc)}") from exc
        await self._listen()

    async def _listen(self) -> None:
        assert self._conn
        host, port = self.conf.upstream_host_port
        bind, remote = self.conf.SSH_REMOTE_BIND, self.conf.SSH_REMOTE_PORT
        conn = self._conn

        def forward(_orig_host: str, _orig_port: int) -> object:
            self.carried += 1  # traffic: this connection proved itself (resets the backoff)
            return conn.forward_connection(host, port)

        try:
            # forward_remote_port() with a counting session factory (same asyncssh call path).
            self._listener = await conn.create_server(forward, bind, remote)
        except asyncssh.ChannelListenError as exc:
            raise ConnectorError(
                f"edge refused the remote bind {bind}:{remote}: {_text(exc)} "
                "(port in use by a stale session, or forwarding not permitted)"
            ) from exc
        except (OSError, asyncssh.Error) as exc:
            raise ConnectorError(f"remote forward request failed: {_text(exc)}") from exc
        bound = self._listener.get_port()
        self.url = self.public_url(host=self.conf.SSH_HOST, port=bound)
        logger.info("tunnel: %s:%s on the edge now forwards to %s:%s", bind, bound, host, port)

    async def wait_down(self) -> str:
        assert self._client
        return await asyncio.shield(self._client.lost)

    async def check(self) -> str | None:
        if self._client is None or self._client.lost.done():
            return "ssh connection closed"
        return None

    def kill_now(self) -> None:
        if self._conn is not None:
            self._conn.abort()  # the socket closes now: the edge frees the port

    async def stop(self, grace: float) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._conn is not None:
            self._conn.close()
            try:
                await asyncio.wait_for(self._conn.wait_closed(), grace)
            except (TimeoutError, OSError, asyncssh.Error):
                self._conn.abort()

    def _target(self) -> str:
        return f"{self.conf.SSH_USER}@{self.conf.SSH_HOST}:{self.conf.SSH_PORT}"


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
