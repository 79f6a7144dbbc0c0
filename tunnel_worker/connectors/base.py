"""The connector contract the supervisor drives, and the error it raises."""

from __future__ import annotations

import abc

from tunnel_worker.conf import TunnelSettings


class ConnectorError(Exception):
    """A connector could not start or broke; ``operator_needed`` marks auth/config faults."""

    def __init__(self, reason: str, *, operator_needed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.operator_needed = operator_needed


class Connector(abc.ABC):
    """One attempt at a tunnel: start it, watch it, stop it. Never reused after stop()."""

    def __init__(self, conf: TunnelSettings) -> None:
        self.conf = conf
        self.url: str | None = None
        self.last_check: str | None = None  # why the last readiness check said "not yet"
        self.carried = 0  # connections forwarded, where the connector can see them (ssh)

    @abc.abstractmethod
    async def start(self) -> None:
        """Start and return once ready; raise ConnectorError on failure (caller times out)."""

    @abc.abstractmethod
    async def wait_down(self) -> str:
        """Return (with a reason) when the connector has died; never returns while it is up."""

    @abc.abstractmethod
    async def check(self) -> str | None:
        """One bounded readiness check: None when ready, else why not."""

    @abc.abstractmethod
    async def stop(self, grace: float) -> None:
        """Tear down; safe to call more than once and after a failed start."""

    @abc.abstractmethod
    def kill_now(self) -> None:
        """Synchronously cut the tunnel at once (fencing); stop() still runs afterwards."""

    def public_url(self, *, host: str = "", port: int | None = None) -> str | None:
        """The agent-side URL: TUNNEL_PUBLIC_URL (with {host}/{port}) or a derived default."""
        template = self.conf.PUBLIC_URL
        if template:
            return template.format(host=host, port=port if port is not None else "")
        if host and port:
            return f"http://{host}:{port}{self.conf.MCP_PATH}"
        return None
