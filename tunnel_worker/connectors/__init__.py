"""Connectors that expose the local upstream to the far side, chosen by TUNNEL_BACKEND."""

from __future__ import annotations

from tunnel_worker.conf import Backend, TunnelSettings
from tunnel_worker.connectors.base import Connector, ConnectorError
from tunnel_worker.connectors.process import CloudflaredConnector, CommandConnector
from tunnel_worker.connectors.ssh import SshConnector

__all__ = ["Connector", "ConnectorError", "connector_for"]


def connector_for(conf: TunnelSettings) -> Connector:
    """Build a fresh connector for the configured backend (one per attempt)."""
    if conf.BACKEND == Backend.SSH:
        return SshConnector(conf)
    if conf.BACKEND == Backend.CLOUDFLARED:
        return CloudflaredConnector(conf)
    if conf.BACKEND == Backend.COMMAND:
        return CommandConnector(conf)
    raise ConnectorError(f"no connector for backend {conf.BACKEND!r}", operator_needed=True)
