"""Typed access to the TUNNEL_WORKER settings dict (the only place that reads it)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

BACKENDS = ("ssh", "cloudflared", "command", "off")


@dataclass(frozen=True)
class TunnelSettings:
    """Every knob of the tunnel worker; see docs/tunnel.md for what each one does."""

    BACKEND: str = "off"
    NAME: str = "default"
    UPSTREAM: str = "http://127.0.0.1:8001"  # the MCP-only listener (config.asgi)
    PUBLIC_URL: str = ""
    MCP_PATH: str = "/mcp"
    SSH_HOST: str = "127.0.0.1"
    SSH_PORT: int = 22
    SSH_USER: str = "tunnel"
    SSH_KEY_FILE: str = ""
    SSH_KNOWN_HOSTS: str = ""
    SSH_REMOTE_BIND: str = "127.0.0.1"
    SSH_REMOTE_PORT: int = 0
    SSH_KEEPALIVE_INTERVAL: float = 5.0
    SSH_KEEPALIVE_COUNT_MAX: int = 3
    SSH_CONNECT_TIMEOUT: float = 10.0
    TOKEN: str = ""
    CLOUDFLARED_BIN: str = "cloudflared"
    CLOUDFLARED_METRICS: str = "127.0.0.1:20241"
    COMMAND: str = ""
    CONNECTOR_ENV: tuple[str, ...] = ()  # extra variables a connector may see ("NAME", "PREFIX_*")
    READY_URL: str = ""
    PROBE_URL: str = ""
    URL_PATTERN: str = ""
    AUTH_FAILURE_PATTERN: str = r"(?i)unauthori[sz]ed|permission denied"
    READY_TIMEOUT: float = 30.0
    CHECK_INTERVAL: float = 2.0
    CHECK_TIMEOUT: float = 3.0
    UNREADY_GRACE: float = 15.0
    PROBE_INTERVAL: float = 10.0
    PROBE_TIMEOUT: float = 5.0
    PROBE_FAILURES: int = 2
    COMMAND_SETTLE: float = 2.0
    BACKOFF_BASE: float = 1.0
    BACKOFF_CAP: float = 30.0
    BACKOFF_RESET_AFTER: float = 60.0
    AUTH_BACKOFF_MIN: float = 30.0
    STOP_GRACE: float = 10.0
    LEASE: bool = True
    LEASE_TTL: float = 15.0
    LEASE_HOLDERS: int = 1  # at most this many connectors at once (cloudflared replicas)
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    HEARTBEAT_INTERVAL: float = 5.0
    HEARTBEAT_STALE: float = 30.0
    WATCHDOG_INTERVAL: float = 15.0
    GATES_READINESS: bool = False
    EDGE_DIR: str = ".data/tunnel_edge"
    EDGE_PORT: int = 2222
    EDGE_REMOTE_PORT: int = 8765

    @property
    def upstream_host_port(self) -> tuple[str, int]:
        """The (host, port) the connector forwards to, parsed from UPSTREAM."""
        parts = urlsplit(self.UPSTREAM)
        default = 443 if parts.scheme == "https" else 80
        return parts.hostname or "127.0.0.1", parts.port or default


def tunnel_settings(**overrides: Any) -> TunnelSettings:
    """Return the tunnel settings from Django settings, with optional overrides (tests, CLI)."""
    raw: dict[str, Any] = dict(getattr(settings, "TUNNEL_WORKER", {}))
    raw.update(overrides)
    known = {f.name for f in fields(TunnelSettings)}
    values = {k: v for k, v in raw.items() if k in known}
    conf = TunnelSettings(**values)
    if conf.BACKEND not in BACKENDS:
        raise ValueError(
            f"TUNNEL_BACKEND must be one of {', '.join(BACKENDS)}, not {conf.BACKEND!r}"
        )
    if conf.LEASE_HOLDERS < 1:
        raise ValueError(f"TUNNEL_LEASE_HOLDERS must be at least 1, not {conf.LEASE_HOLDERS}")
    if conf.BACKEND == "ssh" and conf.LEASE_HOLDERS > 1:
        # One reverse forward per remote port: a second session could not bind it. More
        # ssh hosts are hot standbys (they wait for the lease), not replicas.
        raise ValueError("TUNNEL_LEASE_HOLDERS must be 1 with TUNNEL_BACKEND=ssh")
    return conf
