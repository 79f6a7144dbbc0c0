"""Connectors that expose the local upstream to the far side, chosen by TUNNEL_BACKEND."""

from __future__ import annotations

from tunnel_worker.conf import BACKENDS, Backend, TunnelSettings
from tunnel_worker.connectors.base import Connector, ConnectorError
from tunnel_worker.connectors.external import CloudflaredConnector, CommandConnector
from tunnel_worker.connectors.ssh import SshConnector

__all__ = ["Connector", "ConnectorError", "connector_for"]


# One entry per TUNNEL_BACKEND (tunnel_worker.conf.Backend) that runs a connector.
CONNECTORS: dict[Backend, type[Connector]] = {
    Backend.SSH: SshConnector,
    Backend.CLOUDFLARED: CloudflaredConnector,
    Backend.COMMAND: CommandConnector,
}


def connector_for(conf: TunnelSettings) -> Connector:
    """Build a fresh connector for the configured backend (one per attempt)."""
    connector = CONNECTORS.get(Backend(conf.BACKEND)) if conf.BACKEND in BACKENDS else None
    if connector is None:
        raise ConnectorError(f"no connector for backend {conf.BACKEND!r}", operator_needed=True)
    return connector(conf)
