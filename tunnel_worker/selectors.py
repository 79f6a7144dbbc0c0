"""Reads of the stored tunnel status for interfaces (tunnel_status, admin, /readyz, /metrics)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from tunnel_worker.conf import Backend, tunnel_settings
from tunnel_worker.lease import SLOT_MARK, lease_info
from tunnel_worker.models import TunnelEvent, TunnelState, TunnelStatus

_LIVE = (TunnelState.STARTING, TunnelState.CONNECTED, TunnelState.RECONNECTING)


UNKNOWN = "unknown"  # the stored state is stale and nothing fresher says otherwise


def tunnel_state(name: str | None = None) -> dict[str, Any]:
    """Return one tunnel's status as plain data: true, or saying that it does not know.

    Keys: name, backend, enabled, state, stored_state, up, stale, source, ready,
    gates_readiness, since, connects, disconnects, reconnects, attempt, backoff_seconds,
    last_error, last_error_at, holder {host, pid}, url, heartbeat_at, status_lag_seconds.

    A live state (starting, connected, reconnecting) counts only while its holder's heartbeat is
    fresher than ``2 x HEARTBEAT_INTERVAL``: the stored row's, or else the lease heartbeat in
    Redis, which the holder refreshes with its connector's own state without touching the
    database (``source`` says which one was used). With neither fresh, ``state`` is ``unknown``
    and ``up`` false: the holder may be dead, or alive behind a database it cannot reach.
    ``up`` is true only for a fresh ``connected`` (with TUNNEL_PROBE_URL set, the supervisor
    stores ``connected`` only while the end-to-end probe passes). ``ready`` is what a readiness
    endpoint reports for the tunnel part (always true when TUNNEL_GATES_READINESS is off).
    Metrics map as: tunnel_up=up, tunnel_reconnects_total=reconnects,
    tunnel_backoff_seconds=backoff_seconds.

    With TUNNEL_LEASE_HOLDERS > 1 (cloudflared replicas) each lease slot has its own row
    (`name`, `name#1`, ...): `replicas` lists each one's state, holder and url, `replicas_up`
    counts the connected ones, and the other keys describe the best replica (an up one first),
    so `up` means "at least one replica is connected".
    """
    conf = tunnel_settings()
    name = name or conf.NAME
    rows = TunnelStatus.objects.filter(Q(name=name) | Q(name__startswith=f"{name}{SLOT_MARK}"))
    if not rows:
        state = _empty(name, conf.BACKEND, conf.BACKEND != Backend.OFF, conf.GATES_READINESS)
        return {**state, "replicas": [], "replicas_up": 0}
    replicas = [_replica_state(status) for status in sorted(rows, key=lambda r: _slot(r.name))]
    # The tunnel as a whole is its best replica: an up one, else a live one, else slot 0.
    best = max(enumerate(replicas), key=lambda ir: (ir[1]["up"], ir[1]["state"] in _LIVE, -ir[0]))[
        1
    ]
    return {
        **best,
        "name": name,
        "replicas": [_summary(r) for r in replicas],
        "replicas_up": sum(r["up"] for r in replicas),
    }


def _slot(row_name: str) -> int:
    _, mark, slot = row_name.rpartition(SLOT_MARK)
    return int(slot) if mark and slot.isdigit() else 0


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    """One replica (lease slot) in the `replicas` list of tunnel_state."""
    keys = ("name", "state", "up", "stale", "source", "since", "holder", "url", "heartbeat_at")
    return {key: state[key] for key in keys}


def _replica_state(status: TunnelStatus) -> dict[str, Any]:
    """The state of one lease slot's connector, from its row and (if stale) its lease beat."""
    conf = tunnel_settings()
    enabled = conf.BACKEND != Backend.OFF
    fresh_for = 2 * conf.HEARTBEAT_INTERVAL
    state, source, url = status.state, "database", status.url
    stale = _is_stale(status, fresh_for)
    if stale and conf.LEASE:
        live = _lease_beat(conf.REDIS_URL, status.name, fresh_for, status)
        if live is not None:
            state, source, stale = str(live.get("state", UNKNOWN)), "lease", False
            url = str(live.get("url") or url)
    if stale:
        state, source = UNKNOWN, "none"
    up = state == TunnelState.CONNECTED
    # A connector with a fresh heartbeat is running somewhere: the tunnel is enabled there,
    # whatever TUNNEL_BACKEND says in the environment of the process that asks.
    enabled = enabled or (state in _LIVE and not stale)
    return {
        "name": status.name,
        "backend": status.backend,
        "enabled": enabled,
        "state": state,
        "stored_state": status.state,
        "up": up,
        "stale": stale,
        "source": source,
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
        "url": url or None,
        "heartbeat_at": _iso(status.heartbeat_at),
        "status_lag_seconds": status.status_lag_seconds,
    }


def _lease_beat(url: str, name: str, fresh_for: float, status: TunnelStatus) -> dict | None:
    """The holder's live state from its lease heartbeat, if fresh and from the stored holder."""
    try:
        info = lease_info(url=url, name=name, timeout=1.0)
    except Exception:  # Redis away too: nothing fresher to go on
        return None
    if info.live is None or info.heartbeat_age is None or info.heartbeat_age > fresh_for:
        return None
    holder = info.holder or {}
    if (holder.get("host"), holder.get("pid")) != (status.holder_host, status.holder_pid):
        return None  # a new holder that has not written its row yet: not this row's story
    return info.live


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
        "stored_state": TunnelState.STOPPED.value,
        "up": False,
        "stale": False,
        "source": "none",
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
        "status_lag_seconds": 0.0,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None
