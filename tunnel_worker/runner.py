"""Runs the supervisor under the lease, in the foreground (run_tunnel) or in a Celery task."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable

from tunnel_worker.conf import Backend, TunnelSettings, tunnel_settings
from tunnel_worker.lease import Lease, renew_interval, slot_names
from tunnel_worker.models import TunnelEvent, TunnelState
from tunnel_worker.reporter import Reporter
from tunnel_worker.services import Holder
from tunnel_worker.supervisor import Supervisor

logger = logging.getLogger(__name__)

EXIT_FLUSH = 1.0  # seconds the final status write may take at shutdown

_running: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
_running_lock = threading.Lock()


def request_stop() -> None:
    """Ask every supervisor in this process to drain (safe from signal handlers and threads)."""
    with _running_lock:
        targets = list(_running)
    for loop, stop in targets:
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(stop.set)


def tunnel_run(
    *,
    conf: TunnelSettings | None = None,
    handle_signals: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Block running the tunnel until asked to stop; returns why it ended."""
    conf = conf or tunnel_settings()
    if conf.BACKEND == Backend.OFF:
        logger.info("tunnel %s: TUNNEL_BACKEND=off, nothing to run", conf.NAME)
        return "off"
    return asyncio.run(_main(conf, handle_signals=handle_signals, should_stop=should_stop))


async def _main(
    conf: TunnelSettings, *, handle_signals: bool, should_stop: Callable[[], bool] | None
) -> str:
    loop, stop = asyncio.get_running_loop(), asyncio.Event()
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.ensure_future(_watch_external(stop, should_stop))
    holder, run_id = Holder(), uuid.uuid4().hex
    reporter = Reporter(
        name=conf.NAME,
        backend=conf.BACKEND,
        holder=holder,
        heartbeat_interval=conf.HEARTBEAT_INTERVAL,
    )
    with _running_lock:
        _running.add((loop, stop))
    try:
        outcome = "stopped"
        while not stop.is_set():
            outcome = await _leased_run(conf, stop, reporter, holder, run_id)
            if outcome != "lease lost":
                break
        return outcome
    finally:
        with _running_lock:
            _running.discard((loop, stop))
        watcher.cancel()
        # The last status write gets a short deadline: a frozen database never delays exit.
        await asyncio.get_running_loop().run_in_executor(None, reporter.close, EXIT_FLUSH)


async def _watch_external(stop: asyncio.Event, should_stop: Callable[[], bool] | None) -> None:
    while should_stop is not None and not stop.is_set():
        if should_stop():
            stop.set()
        await asyncio.sleep(0.5)


async def _leased_run(
    conf: TunnelSettings, stop: asyncio.Event, reporter: Reporter, holder: Holder, run_id: str
) -> str:
    """Take a lease slot (waiting as a standby while all are held), run, give it back.

    Each of the TUNNEL_LEASE_HOLDERS slots is a single-holder lease with its own fencing, so at
    most that many connectors run at once; the status row is the slot's (`name`, `name#1`...).
    """
    leases = []
    if conf.LEASE:
        leases = [
            Lease(url=conf.REDIS_URL, name=slot, ttl=conf.LEASE_TTL, holder=holder, run_id=run_id)
            for slot in slot_names(conf.NAME, conf.LEASE_HOLDERS)
        ]
    try:
        lease = await _acquire(leases, stop, conf) if leases else None
        if leases and lease is None:
            return "stopped"
        if lease is not None and lease.name != conf.NAME:
            # The slot's name tags its connector processes too: the orphan reaper of another
            # replica on the same host must not take this one's connector for a leftover.
            conf = dataclasses.replace(conf, NAME=lease.name)
        reporter.name = conf.NAME
        return await _hold(conf, lease, stop, reporter)
    finally:
        for each in leases:  # only ours is released (a delayed SET of ours too, if any)
            await each.release()
            await each.close()


async def _acquire(leases: list[Lease], stop: asyncio.Event, conf: TunnelSettings) -> Lease | None:
    """Poll SET NX on each slot until we hold one or are stopped; log the holders once."""
    poll = min(1.0, conf.LEASE_TTL / 5)
    last_holders = None
    while not stop.is_set():
        try:
            for lease in leases:
                if await asyncio.wait_for(lease.try_acquire(), 3.0):
                    logger.info("tunnel %s: lease acquired", lease.name)
                    return lease
            holders = [
                await asyncio.wait_for(lease.holder(), 3.0) or "nobody (key gone early)"
                for lease in leases
            ]
            if holders != last_holders:
                logger.info(
                    "tunnel %s: standing by, lease held by %s", conf.NAME, "; ".join(holders)
                )
                last_holders = holders
        except Exception as exc:  # Redis down: keep waiting, never run without the lease
            logger.warning("tunnel %s: lease store unavailable: %s", conf.NAME, exc)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)
    return None


async def _hold(
    conf: TunnelSettings, lease: Lease | None, stop: asyncio.Event, reporter: Reporter
) -> str:
    """Run the supervisor while the lease is renewed; halt it at once if the lease is lost."""
    halt, lost = asyncio.Event(), list[str]()
    reporter.started()
    supervisor = Supervisor(conf, halt=halt, reporter=reporter)
    keeper = asyncio.ensure_future(_keep(conf, lease, supervisor, lost))
    relay = asyncio.ensure_future(_relay(stop, halt))
    try:
        await supervisor.run()
    finally:
        keeper.cancel()
        relay.cancel()
    error = lost[0] if lost else ""
    if lost:
        reporter.lease_lost()
    reporter.transition(TunnelState.STOPPED, TunnelEvent.Kind.STOPPED, error=error)
    logger.info("tunnel %s stopped%s", conf.NAME, f": {error}" if error else "")
    return "lease lost" if lost else "stopped"


async def _relay(stop: asyncio.Event, halt: asyncio.Event) -> None:
    await stop.wait()
    halt.set()


async def _keep(
    conf: TunnelSettings, lease: Lease | None, supervisor: Supervisor, lost: list[str]
) -> None:
    """Renew the lease (its heartbeat carries the connector's state) and fence on our own clock.

    Nothing here waits on the database. A renewal that fails is retried every 0.5 s; if none
    succeeds before ``fence_at`` (the lease's TTL after the last good renewal, minus a margin)
    the connector is stopped without grace, so it is gone before anyone else can take over.
    """
    if lease is None:
        return
    interval = renew_interval(conf.LEASE_TTL, conf.HEARTBEAT_INTERVAL)
    halt, failing = supervisor.halt, False
    while not halt.is_set():
        pause = min(0.5, interval) if failing else interval
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(halt.wait(), max(0.0, min(pause, lease.fence_at - _now())))
        if halt.is_set():
            return
        try:
            budget = max(0.1, min(2.0, lease.fence_at - _now()))
            held = await asyncio.wait_for(lease.renew(supervisor.reporter.live()), budget)
        except Exception as exc:  # Redis away: we still hold the lease until fence_at
            if _now() < lease.fence_at:
                if not failing:
                    logger.warning("tunnel %s: lease renewal failed, retrying: %s", conf.NAME, exc)
                failing = True
                continue
            lost.append(f"lease could not be renewed before it would expire: {_text(exc)}")
            supervisor.fence()
            logger.error("tunnel %s: %s; connector stopped (fenced)", conf.NAME, lost[0])
            return
        if not held:
            lost.append(f"lease lost to {await _holder(lease)}")
            supervisor.fence()
            logger.error("tunnel %s: %s; connector stopped", conf.NAME, lost[0])
            return
        if failing:
            logger.info("tunnel %s: lease renewed again", conf.NAME)
        failing = False


async def _holder(lease: Lease) -> str:
    try:
        return await asyncio.wait_for(lease.holder(), 1.0) or "nobody (expired)"
    except Exception:
        return "another holder"


def _now() -> float:
    return time.monotonic()


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
