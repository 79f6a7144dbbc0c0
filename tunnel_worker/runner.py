"""Runs the supervisor under the lease, in the foreground (run_tunnel) or in a Celery task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable

from tunnel_worker.conf import TunnelSettings, tunnel_settings
from tunnel_worker.lease import Lease
from tunnel_worker.models import TunnelEvent, TunnelState
from tunnel_worker.reporter import Reporter
from tunnel_worker.services import Holder
from tunnel_worker.supervisor import Supervisor

logger = logging.getLogger(__name__)

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
    if conf.BACKEND == "off":
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
    holder = Holder()
    reporter = Reporter(name=conf.NAME, backend=conf.BACKEND, holder=holder)
    with _running_lock:
        _running.add((loop, stop))
    try:
        outcome = "stopped"
        while not stop.is_set():
            outcome = await _leased_run(conf, stop, reporter, holder)
            if outcome != "lease lost":
                break
        return outcome
    finally:
        with _running_lock:
            _running.discard((loop, stop))
        watcher.cancel()
        await asyncio.get_running_loop().run_in_executor(None, reporter.close)


async def _watch_external(stop: asyncio.Event, should_stop: Callable[[], bool] | None) -> None:
    while should_stop is not None and not stop.is_set():
        if should_stop():
            stop.set()
        await asyncio.sleep(0.5)


async def _leased_run(
    conf: TunnelSettings, stop: asyncio.Event, reporter: Reporter, holder: Holder
) -> str:
    """Take the lease (waiting as a standby if needed), run, give the lease back."""
    lease = None
    if conf.LEASE:
        lease = Lease(url=conf.REDIS_URL, name=conf.NAME, ttl=conf.LEASE_TTL, holder=holder)
    try:
        if lease is not None and not await _acquire(lease, stop, conf):
            return "stopped"
        return await _hold(conf, lease, stop, reporter)
    finally:
        if lease is not None:
            await lease.release()
            await lease.close()


async def _acquire(lease: Lease, stop: asyncio.Event, conf: TunnelSettings) -> bool:
    """Poll SET NX until we hold the lease or are stopped; log the current holder once."""
    poll = min(1.0, conf.LEASE_TTL / 5)
    last_holder = None
    while not stop.is_set():
        try:
            if await lease.try_acquire():
                logger.info("tunnel %s: lease acquired", conf.NAME)
                return True
            holder = await lease.holder()
            if holder != last_holder:
                logger.info("tunnel %s: standing by, lease held by %s", conf.NAME, holder)
                last_holder = holder
        except Exception as exc:  # Redis down: keep waiting, never run without the lease
            logger.warning("tunnel %s: lease store unavailable: %s", conf.NAME, exc)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)
    return False


async def _hold(
    conf: TunnelSettings, lease: Lease | None, stop: asyncio.Event, reporter: Reporter
) -> str:
    """Run the supervisor while the lease is renewed; halt it at once if the lease is lost."""
    halt, lost = asyncio.Event(), list[str]()
    await reporter.started()
    keeper = asyncio.ensure_future(_keep(conf, lease, reporter, halt, lost))
    relay = asyncio.ensure_future(_relay(stop, halt))
    try:
        await Supervisor(conf, halt=halt, reporter=reporter).run()
    finally:
        keeper.cancel()
        relay.cancel()
    error = lost[0] if lost else ""
    await reporter.transition(TunnelState.STOPPED, TunnelEvent.Kind.STOPPED, error=error)
    logger.info("tunnel %s stopped%s", conf.NAME, f": {error}" if error else "")
    return "lease lost" if lost else "stopped"


async def _relay(stop: asyncio.Event, halt: asyncio.Event) -> None:
    await stop.wait()
    halt.set()


async def _keep(
    conf: TunnelSettings,
    lease: Lease | None,
    reporter: Reporter,
    halt: asyncio.Event,
    lost: list[str],
) -> None:
    """Renew the lease and store a heartbeat; a lease we cannot vouch for halts the connector."""
    interval = min(conf.HEARTBEAT_INTERVAL, conf.LEASE_TTL / 3)
    while not halt.is_set():
        await asyncio.sleep(interval)
        if lease is not None and not await _renew(lease, conf, interval, lost):
            logger.error("tunnel %s: %s; stopping the connector", conf.NAME, lost[0])
            halt.set()
            return
        await reporter.heartbeat()


async def _renew(lease: Lease, conf: TunnelSettings, interval: float, lost: list[str]) -> bool:
    try:
        if await lease.renew():
            return True
        lost.append(f"lease lost to {await lease.holder() or 'nobody (expired)'}")
        return False
    except Exception as exc:
        if time.monotonic() < lease.valid_until - interval:
            logger.warning("tunnel %s: lease renewal failed, will retry: %s", conf.NAME, exc)
            return True
        lost.append(f"lease could not be renewed before it expired: {exc}")
        return False
