"""Writes of the tunnel's stored status and event log (the status writer and watchdog call these)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tunnel_worker.models import TunnelEvent, TunnelState, TunnelStatus

EVENTS_KEPT_PER_TUNNEL = 1000


@dataclass(frozen=True)
class Holder:
    """The process that holds (or last held) a tunnel."""

    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


@dataclass(frozen=True)
class StatusEvent:
    """One event as the supervisor saw it, stored later (its time is when it happened)."""

    kind: str
    at: datetime
    detail: str = ""
    backoff: float | None = None
    attempt: int = 0


@dataclass(frozen=True)
class StatusSnapshot:
    """The holder's view of its tunnel, written as a whole (writes coalesce; none is lost).

    ``connects``/``disconnects`` are the counts not yet stored; ``lag_seconds`` is how long the
    oldest unstored change waited (0 when the status was current); ``claim`` takes the row over
    from a previous holder (only right after acquiring the lease).
    """

    backend: str
    state: str
    since: datetime
    heartbeat_at: datetime
    last_error: str = ""
    last_error_at: datetime | None = None
    backoff: float = 0.0
    attempt: int = 0
    url: str = ""
    connects: int = 0
    disconnects: int = 0
    lag_seconds: float = 0.0
    claim: bool = False


@transaction.atomic
def tunnel_status_sync(
    *, name: str, holder: Holder, snapshot: StatusSnapshot, events: list[StatusEvent]
) -> bool:
    """Store a holder's snapshot and its pending events; False when another holder owns the row."""
    status, _ = TunnelStatus.objects.select_for_update().get_or_create(
        name=name, defaults={"since": snapshot.since}
    )
    ours = (status.holder_host, status.holder_pid) in (("", None), (holder.host, holder.pid))
    if not ours and not snapshot.claim:
        # Another holder took over (our lease expired or was handed over): keep its status.
        for event in events:
            _event(name=name, holder=holder, superseded=True, event=event)
        return False
    # A previous holder that went away while connected could not store its disconnect (killed,
    # or exiting while the database was away): count it now, so every disconnect is counted.
    unrecorded = int(not ours and status.state == TunnelState.CONNECTED)
    if unrecorded:
        gone = StatusEvent(
            TunnelEvent.Kind.DISCONNECTED,
            snapshot.since,
            f"previous holder {status.holder_host}:{status.holder_pid} went away while connected",
        )
        events = [gone, *events]
    status.backend, status.state, status.since = snapshot.backend, snapshot.state, snapshot.since
    status.holder_host, status.holder_pid = holder.host, holder.pid
    status.heartbeat_at = snapshot.heartbeat_at
    status.last_error, status.last_error_at = snapshot.last_error[:4000], snapshot.last_error_at
    status.backoff_seconds, status.attempt, status.url = (
        snapshot.backoff,
        snapshot.attempt,
        snapshot.url[:500],
    )
    status.status_lag_seconds = round(snapshot.lag_seconds, 3)
    status.full_clean()
    status.save()
    _count(status.pk, connect=snapshot.connects, disconnect=snapshot.disconnects + unrecorded)
    for event in events:
        _event(name=name, holder=holder, event=event)
    return True


@transaction.atomic
def tunnel_status_mark_lost(*, name: str, reason: str) -> bool:
    """Mark a tunnel whose holder vanished as reconnecting; returns whether anything changed."""
    status = TunnelStatus.objects.select_for_update().filter(name=name).first()
    live = (TunnelState.STARTING, TunnelState.CONNECTED, TunnelState.RECONNECTING)
    if status is None or status.state not in live:
        return False
    was_connected = status.state == TunnelState.CONNECTED
    now = timezone.now()
    status.state, status.since, status.last_error, status.last_error_at = (
        TunnelState.RECONNECTING,
        now,
        reason,
        now,
    )
    status.save()
    _count(status.pk, connect=0, disconnect=int(was_connected))
    holder = Holder(host=status.holder_host, pid=status.holder_pid or 0)
    _event(name=name, holder=holder, event=StatusEvent(TunnelEvent.Kind.WATCHDOG, now, reason))
    return True


def _count(pk: int, *, connect: int, disconnect: int) -> None:
    updates = {}
    if connect:
        updates["connect_count"] = F("connect_count") + connect
    if disconnect:
        updates["disconnect_count"] = F("disconnect_count") + disconnect
    if updates:
        TunnelStatus.objects.filter(pk=pk).update(**updates)


def _event(*, name: str, holder: Holder, event: StatusEvent, superseded: bool = False) -> None:
    detail = ("(superseded) " if superseded else "") + event.detail
    row = TunnelEvent.objects.create(
        name=name,
        kind=event.kind,
        at=event.at,
        detail=detail[:4000],
        backoff_seconds=event.backoff,
        attempt=event.attempt,
        holder_host=holder.host,
        holder_pid=holder.pid,
    )
    if row.pk % 100 == 0:  # trim now and then, not on every write
        keep = TunnelEvent.objects.filter(name=name).values_list("pk", flat=True)[
            EVENTS_KEPT_PER_TUNNEL - 1 : EVENTS_KEPT_PER_TUNNEL
        ]
        if keep:
            TunnelEvent.objects.filter(name=name, pk__lt=keep[0]).delete()
