"""The tunnel worker's settings: the TUNNEL_WORKER dict, typed (ops.conf.app_settings)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from ops.conf import app_settings


class Backend(StrEnum):
    """TUNNEL_BACKEND: which connector exposes the upstream (docs/tunnel.md)."""

    SSH = "ssh"
    CLOUDFLARED = "cloudflared"
    COMMAND = "command"
    OFF = "off"


BACKENDS = tuple(Backend)


@dataclass(frozen=True)
class TunnelSettings:
    """The TUNNEL_WORKER dict; base.py and docs/tunnel.md say what each knob does."""

    BACKEND: str
    NAME: str
    UPSTREAM: str
    PUBLIC_URL: str
    MCP_PATH: str
    SSH_HOST: str
    SSH_PORT: int
    SSH_USER: str
    SSH_KEY_FILE: str
    SSH_KNOWN_HOSTS: str
    SSH_REMOTE_BIND: str
    SSH_REMOTE_PORT: int
    SSH_KEEPALIVE_INTERVAL: float
    SSH_KEEPALIVE_COUNT_MAX: int
    SSH_CONNECT_TIMEOUT: float
    TOKEN: str
    CLOUDFLARED_BIN: str
    CLOUDFLARED_METRICS: str
    COMMAND: str
    CONNECTOR_ENV: tuple[str, ...]
    READY_URL: str
    PROBE_URL: str
    URL_PATTERN: str
    AUTH_FAILURE_PATTERN: str
    READY_TIMEOUT: float
    CHECK_INTERVAL: float
    CHECK_TIMEOUT: float
    UNREADY_GRACE: float
    PROBE_INTERVAL: float
    PROBE_TIMEOUT: float
    PROBE_FAILURES: int
    COMMAND_SETTLE: float
    BACKOFF_BASE: float
    BACKOFF_CAP: float
    BACKOFF_RESET_AFTER: float
    AUTH_BACKOFF_MIN: float
    STOP_GRACE: float
    LEASE: bool
    LEASE_TTL: float
    LEASE_HOLDERS: int  # at most this many connectors at once (cloudflared replicas)
    REDIS_URL: str
    HEARTBEAT_INTERVAL: float
    HEARTBEAT_STALE: float
    WATCHDOG_INTERVAL: float
    GATES_READINESS: bool
    EDGE_DIR: str
    EDGE_PORT: int
    EDGE_REMOTE_PORT: int

    @property
    def upstream_host_port(self) -> tuple[str, int]:
        """The (host, port) the connector forwards to, parsed from UPSTREAM."""
        parts = urlsplit(self.UPSTREAM)
        default = 443 if parts.scheme == "https" else 80
        return parts.hostname or "127.0.0.1", parts.port or default


def tunnel_settings(**overrides: Any) -> TunnelSettings:
    """The tunnel settings, with optional overrides (tests, CLI); refuses an unknown backend."""
    conf = app_settings(TunnelSettings, "TUNNEL_WORKER", **overrides)
    if conf.BACKEND not in BACKENDS:
        raise ValueError(
            f"TUNNEL_BACKEND must be one of {', '.join(BACKENDS)}, not {conf.BACKEND!r}"
        )
    if conf.LEASE_HOLDERS < 1:
        raise ValueError(f"TUNNEL_LEASE_HOLDERS must be at least 1, not {conf.LEASE_HOLDERS}")
    if conf.BACKEND == Backend.SSH and conf.LEASE_HOLDERS > 1:
        # One reverse forward per remote port: a second session could not bind it. More
        # ssh hosts are hot standbys (they wait for the lease), not replicas.
        raise ValueError("TUNNEL_LEASE_HOLDERS must be 1 with TUNNEL_BACKEND=ssh")
    return conf
