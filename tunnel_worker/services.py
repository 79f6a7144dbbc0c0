"""Writes of the tunnel's stored status and event log (the supervisor and watchdog call these)."""

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
class Transition:
    """One change of tunnel state, as reported by the supervisor."""

    state: str
    event: str
    error: str = ""
    backoff: float | None = None
    attempt: int | None = None
    url: str | None = None
    counts_connect: bool = False
    counts_disconnect: bool = False


@transaction.atomic
def tunnel_status_start(*, name: str, backend: str, holder: Holder) -> None:
    """Mark a tunnel as starting under a new holder (keeps its counters)."""
    now = timezone.now()
    status, _ = TunnelStatus.objects.select_for_update().get_or_create(
        name=name, defaults={"since": now}
    )
    status.backend, status.state, status.since = backend, TunnelState.STARTING, now
    status.holder_host, status.holder_pid, status.heartbeat_at = holder.host, holder.pid, now
    status.backoff_seconds, status.url = 0.0, ""
    status.full_clean()
    status.save()
    _event(name=name, kind=TunnelEvent.Kind.LEASE, holder=holder, at=now, detail="lease acquired")


@transaction.atomic
def tunnel_status_transition(*, name: str, change: Transition, holder: Holder) -> None:
    """Record a state change, bump connect/disconnect counters in the database, log an event."""
    now = timezone.now()
    status, _ = TunnelStatus.objects.select_for_update().get_or_create(
        name=name, defaults={"since": now}
    )
    if (status.holder_host, status.holder_pid) not in (("", None), (holder.host, holder.pid)):
        # Another holder took over (lease expired under us): keep its status, log ours.
        _event(
            name=name,
            kind=change.event,
            holder=holder,
            at=now,
            detail="(superseded) " + change.error,
        )
        return
    if status.state != change.state:
        status.since = now
    status.state = change.state
    status.holder_host, status.holder_pid, status.heartbeat_at = holder.host, holder.pid, now
    if change.error:
        status.last_error, status.last_error_at = change.error[:4000], now
    if change.backoff is not None:
        status.backoff_seconds = change.backoff
    if change.attempt is not None:
        status.attempt = change.attempt
    if change.url is not None:
        status.url = change.url
    status.full_clean()
    status.save()
    _count(status.pk, connect=change.counts_connect, disconnect=change.counts_disconnect)
    _event(
        name=name,
        kind=change.event,
        holder=holder,
        at=now,
        detail=change.error,
        backoff=change.backoff,
        attempt=change.attempt or 0,
    )


def tunnel_event_record(
    *, name: str, kind: str, holder: Holder, attempt: int = 0, detail: str = ""
) -> None:
    """Append one event (e.g. a connection attempt) without changing the status."""
    _event(name=name, kind=kind, holder=holder, at=timezone.now(), detail=detail, attempt=attempt)


def tunnel_heartbeat(*, name: str, holder: Holder) -> None:
    """Refresh the stored heartbeat of the holder (no-op if another holder took over)."""
    TunnelStatus.objects.filter(name=name, holder_host=holder.host, holder_pid=holder.pid).update(
        heartbeat_at=timezone.now()
    )


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
    _count(status.pk, connect=False, disconnect=was_connected)
    holder = Holder(host=status.holder_host, pid=status.holder_pid or 0)
    _event(name=name, kind=TunnelEvent.Kind.WATCHDOG, holder=holder, at=now, detail=reason)
    return True


def _count(pk: int, *, connect: bool, disconnect: bool) -> None:
    updates = {}
    if connect:
        updates["connect_count"] = F("connect_count") + 1
    if disconnect:
        updates["disconnect_count"] = F("disconnect_count") + 1
    if updates:
        TunnelStatus.objects.filter(pk=pk).update(**updates)


def _event(
    *,
    name: str,
    kind: str,
    holder: Holder,
    at: datetime,
    detail: str = "",
    backoff: float | None = None,
    attempt: int = 0,
) -> None:
    event = TunnelEvent.objects.create(
        name=name,
        kind=kind,
        at=at,
        detail=detail[:4000],
        backoff_seconds=backoff,
        attempt=attempt,
        holder_host=holder.host,
        holder_pid=holder.pid,
    )
    if event.pk % 100 == 0:  # trim now and then, not on every write
        keep = TunnelEvent.objects.filter(name=name).values_list("pk", flat=True)[
            EVENTS_KEPT_PER_TUNNEL - 1 : EVENTS_KEPT_PER_TUNNEL
        ]
        if keep:
            TunnelEvent.objects.filter(name=name, pk__lt=keep[0]).delete()
