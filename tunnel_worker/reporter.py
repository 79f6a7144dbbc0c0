"""The tunnel's status, kept in memory and written by its own thread: never waits on the database.

The supervisor and the lease keeper only change an in-memory snapshot (instant, no I/O). One
writer thread stores it: every change and every heartbeat interval it writes the latest snapshot
with the events recorded since, each write under a client-side deadline. A write that misses
its deadline has its socket cut (PostgreSQL frozen: the server-side statement_timeout never
fires) and is retried; changes made meanwhile coalesce into the next write, counters add up,
and the row then says how far behind it was (``status_lag_seconds`` and a ``behind`` event).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any

from django.db import connections
from django.utils import timezone

from ops import deadline
from tunnel_worker import services
from tunnel_worker.models import TunnelEvent, TunnelState
from tunnel_worker.services import Holder, StatusEvent, StatusSnapshot

logger = logging.getLogger(__name__)

WRITE_DEADLINE = 3.0  # seconds one status write may take before its connection is cut
RETRY_AFTER = 1.0  # pause after a failed write
EVENTS_QUEUED = 200  # events kept while the database is away; older ones are counted, dropped
BEHIND_AFTER = 2.0  # a write whose oldest change waited longer says it was behind


class Reporter:
    """Holds one tunnel's status; counts connects/disconnects on real edges of ``up``."""

    def __init__(
        self, *, name: str, backend: str, holder: Holder, heartbeat_interval: float = 5.0
    ) -> None:
        self.name = name
        self.holder = holder
        self.heartbeat_interval = heartbeat_interval
        now = timezone.now()
        self._snap = StatusSnapshot(
            backend=backend, state=TunnelState.STOPPED, since=now, heartbeat_at=now
        )
        self._events: deque[StatusEvent] = deque()
        self._dropped = 0
        self._pending_since: float | None = None  # monotonic time of the oldest unstored change
        self._version = 0  # bumped on every change, to see changes made during a write
        self._active = False  # only a lease holder writes (and heartbeats)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._db: Any = None  # the writer thread's DatabaseWrapper
        self._thread = threading.Thread(target=self._drain, name="tunnel-status", daemon=True)
        self._thread.start()

    # --- what the supervisor and the keeper call (instant, from the event loop) -------------

    @property
    def state(self) -> str:
        return self._snap.state

    def live(self) -> dict[str, Any]:
        """The current state for the lease heartbeat (read by tunnel_status when the DB lags)."""
        snap = self._snap
        return {"state": snap.state, "since": snap.since.isoformat(), "url": snap.url}

    def started(self) -> None:
        """We hold the lease: the next write takes the row over (keeps its counters)."""
        with self._lock:
            self._active = True
            now = timezone.now()
            self._change(state=TunnelState.STARTING, since=now, backoff=0.0, url="", claim=True)
            self._add(StatusEvent(TunnelEvent.Kind.LEASE, now, "lease acquired"))

    def lease_lost(self) -> None:
        """Never take the row over again (another holder may have it by now)."""
        with self._lock:
            self._snap = replace(self._snap, claim=False)

    def transition(
        self,
        state: str,
        event: str,
        *,
        error: str = "",
        backoff: float | None = None,
        attempt: int | None = None,
        url: str | None = None,
    ) -> None:
        now = timezone.now()
        with self._lock:
            snap = self._snap
            was_up, is_up = snap.state == TunnelState.CONNECTED, state == TunnelState.CONNECTED
            changes: dict[str, Any] = {"state": state}
            if state != snap.state:
                changes["since"] = now
            if error:
                changes.update(last_error=error, last_error_at=now)
            elif is_up:
                changes.update(last_error="", last_error_at=None)  # reconnected: error is past
            if backoff is not None:
                changes["backoff"] = backoff
            if attempt is not None:
                changes["attempt"] = attempt
            if url is not None:
                changes["url"] = url
            changes["connects"] = snap.connects + int(is_up and not was_up)
            changes["disconnects"] = snap.disconnects + int(was_up and not is_up)
            self._change(**changes)
            self._add(StatusEvent(event, now, error, backoff, attempt or 0))

    def event(self, kind: str, *, attempt: int = 0, detail: str = "") -> None:
        with self._lock:
            self._add(StatusEvent(kind, timezone.now(), detail, None, attempt))
            self._mark_pending()

    def close(self, timeout: float) -> None:
        """Flush what is pending within timeout, then give up (the thread is a daemon)."""
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            # A daemon thread: its write, if any, is cut at its own deadline (WRITE_DEADLINE).
            logger.warning("tunnel %s: status not stored within %.1fs at exit", self.name, timeout)

    # --- internals -----------------------------------------------------------------------

    def _change(self, **changes: Any) -> None:
        self._snap = replace(self._snap, **changes)
        self._mark_pending()

    def _mark_pending(self) -> None:
        self._version += 1
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        self._wake.set()

    def _add(self, event: StatusEvent) -> None:
        if len(self._events) >= EVENTS_QUEUED:
            self._events.popleft()
            self._dropped += 1
        self._events.append(event)

    def _drain(self) -> None:
        """The writer thread: write on change or heartbeat; retry until closed."""
        self._db = connections["default"]
        try:
            while True:
                self._wake.wait(self.heartbeat_interval)
                self._wake.clear()
                closing = self._closing.is_set()
                if self._active and not self._write_once() and not closing:
                    self._closing.wait(RETRY_AFTER)
                    self._wake.set()
                    continue
                if closing:
                    return
        finally:
            with contextlib.suppress(Exception):
                self._db.close()

    def _write_once(self) -> bool:
        with self._lock:
            pending = self._pending_since
            lag = time.monotonic() - pending if pending is not None else 0.0
            snap = replace(self._snap, heartbeat_at=timezone.now(), lag_seconds=lag)
            events, dropped = list(self._events), self._dropped
            taken, version, started = len(events), self._version, time.monotonic()
        if lag > BEHIND_AFTER:
            detail = f"status writes were {lag:.1f}s behind"
            if dropped:
                detail += f"; {dropped} older event(s) dropped"
            events.append(StatusEvent(TunnelEvent.Kind.BEHIND, timezone.now(), detail))
        try:
            self._with_deadline(snap, events)
        except Exception as exc:  # the database is away: keep everything for the next write
            logger.warning("tunnel %s: could not store status (will retry): %s", self.name, exc)
            with contextlib.suppress(Exception):
                self._db.close()
            return False
        with self._lock:
            # Changes made during the write stay pending; what was written is subtracted.
            self._snap = replace(
                self._snap,
                connects=self._snap.connects - snap.connects,
                disconnects=self._snap.disconnects - snap.disconnects,
                claim=self._snap.claim and not snap.claim,
            )
            if self._snap.state == TunnelState.STOPPED:
                self._active = False  # stored as stopped: no more heartbeats until started()
            # Events queued during the write stay; ones that overflowed meanwhile were ours
            # (the oldest), and are stored now.
            overflowed = self._dropped - dropped
            for _ in range(min(max(0, taken - overflowed), len(self._events))):
                self._events.popleft()
            self._dropped = max(0, overflowed - taken)
            # Changes made during the write are pending since the write began.
            self._pending_since = None if self._version == version else started
        return True

    def _with_deadline(self, snap: StatusSnapshot, events: list[StatusEvent]) -> None:
        """One write under the client-side deadline of ops.deadline: the connection is
        checked out afresh inside it (ops.pgbackend watches every checkout), so past
        WRITE_DEADLINE its socket is shut down and a frozen server fails the write fast."""
        with deadline.request_deadline(WRITE_DEADLINE):
            self._db.close()
            services.tunnel_status_sync(
                name=self.name, holder=self.holder, snapshot=snap, events=events
            )
