"""Reads of the stored tunnel status for interfaces (tunnel_status, admin, /readyz, /metrics)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tunnel_worker.conf import tunnel_settings
from tunnel_worker.models import TunnelEvent, TunnelState, TunnelStatus

_LIVE = (TunnelState.STARTING, TunnelState.CONNECTED, TunnelState.RECONNECTING)


def tunnel_state(name: str | None = None) -> dict[str, Any]:
    """Return one tunnel's status as plain data.

    Keys: name, backend, enabled, state, up, stale, ready, gates_readiness, since,
    connects, disconnects, reconnects, attempt, backoff_seconds, last_error, last_error_at,
    holder {host, pid}, url, heartbeat_at. ``up`` is true only when the stored state is
    ``connected`` and the holder's heartbeat is fresh; ``ready`` is what a readiness endpoint
    should report for the tunnel part (always true when TUNNEL_GATES_READINESS is off).
    Metrics map as: tunnel_up=up, tunnel_reconnects_total=reconnects,
    tunnel_backoff_seconds=backoff_seconds.
    """
    conf = tunnel_settings()
    name = name or conf.NAME
    status = TunnelStatus.objects.filter(name=name).first()
    enabled = conf.BACKEND != "off"
    if status is None:
        return _empty(name, conf.BACKEND, enabled, conf.GATES_READINESS)
    stale = _is_stale(status, conf.HEARTBEAT_STALE)
    up = status.state == TunnelState.CONNECTED and not stale
    # A connector with a fresh heartbeat is running somewhere: the tunnel is enabled there,
    # whatever TUNNEL_BACKEND says in the environment of the process that asks.
    enabled = enabled or (status.state in _LIVE and not stale)
    return {
        "name": status.name,
        "backend": status.backend,
        "enabled": enabled,
        "state": status.state,
        "up": up,
        "stale": stale,
        "ready": up or not conf.GATES_READINESS or not enabled,
        "gates_readiness": conf.GATES_READINESS,
        "since": _iso(status.since),
        "connects": status.connect_count,
        "disconnects": status.disconnect_count,
        "reconnects": max(status.connect_count - 1, 0),
        "attempt": status.attempt,
        "backoff_seconds": status.backoff_seconds,
        "last_error": status.last_error,
        "last_error_at": _iso(status.last_error_at),
        "holder": {"host": status.holder_host, "pid": status.holder_pid},
        "url": status.url or None,
        "heartbeat_at": _iso(status.heartbeat_at),
    }


def tunnel_events(*, name: str, kinds: tuple[str, ...] = (), limit: int = 200) -> list[dict]:
    """Return a tunnel's most recent events, oldest first."""
    qs = TunnelEvent.objects.filter(name=name)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    rows = list(qs.order_by("-at", "-id")[:limit])
    return [
        {
            "at": _iso(e.at),
            "kind": e.kind,
            "attempt": e.attempt,
            "backoff_seconds": e.backoff_seconds,
            "detail": e.detail,
            "holder": {"host": e.holder_host, "pid": e.holder_pid},
        }
        for e in reversed(rows)
    ]


def _is_stale(status: TunnelStatus, stale_after: float) -> bool:
    if status.state not in _LIVE:
        return False
    if status.heartbeat_at is None:
        return True
    return (timezone.now() - status.heartbeat_at).total_seconds() > stale_after


def _empty(name: str, backend: str, enabled: bool, gates: bool) -> dict[str, Any]:
    return {
        "name": name,
        "backend": backend,
        "enabled": enabled,
        "state": TunnelState.STOPPED.value,
        "up": False,
        "stale": False,
        "ready": not gates or not enabled,
        "gates_readiness": gates,
        "since": None,
        "connects": 0,
        "disconnects": 0,
        "reconnects": 0,
        "attempt": 0,
        "backoff_seconds": 0.0,
        "last_error": "",
        "last_error_at": None,
        "holder": {"host": "", "pid": None},
        "url": None,
        "heartbeat_at": None,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None
