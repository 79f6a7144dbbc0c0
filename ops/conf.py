"""Typed access to the OPERATIONS settings dict (the only place that reads it)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class OpsSettings:
    """Every operations knob; docs/operations.md says what each one does."""

    METRICS_TOKEN: str = ""
    METRICS_ALLOW_FROM: tuple[str, ...] = ()
    METRICS_REQUIRE_TOKEN: bool = False
    METRICS_QUEUES: tuple[str, ...] = ("default", "tunnel")
    READYZ_TIMEOUT: float = 2.0
    READYZ_MIGRATIONS_TTL: float = 30.0
    LOW_STOCK_INTERVAL: float = 3600.0
    WEBHOOK_TIMEOUT: float = 5.0
    WEBHOOK_MAX_RETRIES: int = 6
    WEBHOOK_BACKOFF_MAX: int = 600
    WEBHOOK_ALLOW_PRIVATE: bool = False
    WEBHOOK_PORTS: tuple[str, ...] = ("80", "443")
    DB_REQUEST_DEADLINE: float = 4.0
    MAX_BODY_BYTES: int = 64 * 1024
    BODY_CAPS: tuple[tuple[str, int], ...] = ()


def ops_settings(**overrides: Any) -> OpsSettings:
    """The operations settings from Django settings, with optional overrides (tests)."""
    raw: dict[str, Any] = dict(getattr(settings, "OPERATIONS", {}))
    raw.update(overrides)
    known = {f.name for f in fields(OpsSettings)}
    values: dict[str, Any] = {
        k: (tuple(v) if isinstance(v, list) else tuple(v.items()) if isinstance(v, dict) else v)
        for k, v in raw.items()
        if k in known
    }
    return OpsSettings(**values)
