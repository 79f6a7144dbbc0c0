"""The beat watchdog's check: is the tunnel's lease heartbeat fresh, and if not, re-queue it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis

from tunnel_worker.conf import Backend, TunnelSettings, tunnel_settings
from tunnel_worker.lease import lease_info, slot_names
from tunnel_worker.services import tunnel_status_mark_lost

logger = logging.getLogger(__name__)


def tunnel_watchdog_check(*, enqueue: Callable[[str], None]) -> str:
    """Re-queue the tunnel run when a lease slot has no live holder heartbeating it; returns
    what it saw (one line per slot with TUNNEL_LEASE_HOLDERS > 1)."""
    conf = tunnel_settings()
    if conf.BACKEND == Backend.OFF:
        return "off"
    if not conf.LEASE:
        return "lease disabled: run_tunnel is supervised outside Celery"
    seen = [_check_slot(conf, slot, enqueue) for slot in slot_names(conf.NAME, conf.LEASE_HOLDERS)]
    return (
        seen[0]
        if len(seen) == 1
        else "; ".join(
            f"{n}: {s}"
            for n, s in zip(slot_names(conf.NAME, conf.LEASE_HOLDERS), seen, strict=True)
        )
    )


def _check_slot(conf: TunnelSettings, slot: str, enqueue: Callable[[str], None]) -> str:
    info = lease_info(url=conf.REDIS_URL, name=slot)
    fresh = info.heartbeat_age is not None and info.heartbeat_age <= conf.HEARTBEAT_STALE
    if info.holder and fresh:
        return f"healthy: held by {info.holder.get('host')}:{info.holder.get('pid')}"
    if info.holder:
        reason = f"holder {info.holder} heartbeat stale ({info.heartbeat_age or 0:.0f}s)"
    else:
        reason = "no live holder (lease expired or never taken)"
    if tunnel_status_mark_lost(name=slot, reason=f"watchdog: {reason}; re-queued"):
        logger.warning("tunnel %s: %s; re-queueing", slot, reason)
    if _claim_requeue(conf.REDIS_URL, slot, conf.WATCHDOG_INTERVAL):
        enqueue(conf.NAME)  # any worker of the tunnel takes whichever slot is free
        return f"re-queued: {reason}"
    return f"already re-queued recently: {reason}"


def _claim_requeue(url: str, name: str, interval: float) -> bool:
    """At most one pending re-queue per interval, so a missing worker doesn't pile up tasks."""
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.set(f"tunnel:{name}:requeued", 1, nx=True, px=int(interval * 2000)))
    finally:
        client.close()
