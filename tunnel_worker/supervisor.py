"""The one supervisor loop every connector runs under: start, wait ready, monitor, back off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from tunnel_worker.backoff import Backoff
from tunnel_worker.conf import TunnelSettings
from tunnel_worker.connectors import Connector, ConnectorError, connector_for
from tunnel_worker.models import TunnelEvent, TunnelState
from tunnel_worker.reporter import Reporter

logger = logging.getLogger(__name__)

STOPPING = "stopping"


class Supervisor:
    """Keeps one connector up until ``halt`` is set; all waits are bounded and interruptible."""

    def __init__(
        self,
        conf: TunnelSettings,
        *,
        halt: asyncio.Event,
        reporter: Reporter,
        factory: Callable[[TunnelSettings], Connector] = connector_for,
    ) -> None:
        self.conf = conf
        self.halt = halt
        self.reporter = reporter
        self.factory = factory
        self.backoff = Backoff(
            base=conf.BACKOFF_BASE, cap=conf.BACKOFF_CAP, floor=conf.AUTH_BACKOFF_MIN
        )
        # At shutdown the connector gets most of STOP_GRACE; the rest is for the final status
        # write and the lease release, so the whole process exits within STOP_GRACE.
        self.stop_grace = max(conf.STOP_GRACE - 2.0, min(conf.STOP_GRACE, 1.0))
        self.proven_lost_at: float | None = None  # when the last proven connection ended
        self.current: Connector | None = None  # the connector of the running attempt

    def fence(self) -> None:
        """The lease can no longer be vouched for: cut the connector now, without grace."""
        self.stop_grace = 0.0
        if self.current is not None:
            self.current.kill_now()  # synchronously: no wait for the loop to reach _stop()
        self.halt.set()

    async def run(self) -> None:
        """Loop attempts until halted; each failure is recorded with the backoff it waits."""
        while not self.halt.is_set():
            reason, operator_needed, connected_for, proven = await self._attempt()
            if self.halt.is_set():
                break
            # A connection that carried traffic or passed its end-to-end probe proved the edge
            # works: the next failure is a new incident, not one more of a series.
            if proven or connected_for >= self.conf.BACKOFF_RESET_AFTER:
                self.backoff.reset()
            if proven:
                self.proven_lost_at = time.monotonic()
            await self._after_failure(reason, operator_needed=operator_needed)

    async def _after_failure(self, reason: str, *, operator_needed: bool) -> None:
        attempt = self.backoff.attempt
        lost = self.proven_lost_at
        outage = time.monotonic() - lost if lost is not None else None
        delay = self.backoff.next_delay(operator_needed=operator_needed, outage=outage)
        if operator_needed:
            logger.error(
                "TUNNEL %s FAILED and needs an operator: %s (retrying in %.1fs)",
                self.conf.NAME,
                reason,
                delay,
            )
        else:
            logger.warning(
                "tunnel %s down: %s (retry %d in %.1fs)", self.conf.NAME, reason, attempt, delay
            )
        state = TunnelState.FAILED if operator_needed else TunnelState.RECONNECTING
        kind = TunnelEvent.Kind.FAILED if operator_needed else TunnelEvent.Kind.DISCONNECTED
        self.reporter.transition(state, kind, error=reason, backoff=delay, attempt=attempt)
        await self._sleep(delay)

    async def _attempt(self) -> tuple[str, bool, float, bool]:
        """One connector lifetime: (why it ended, needs an operator?, seconds up, proven?)."""
        connector: Connector | None = None
        connected_at: float | None = None
        probe = _Probe(self.conf)
        try:
            connector = self.current = self.factory(self.conf)
            self.reporter.event(TunnelEvent.Kind.ATTEMPT, attempt=self.backoff.attempt)
            start = asyncio.wait_for(self._start(connector, probe), self.conf.READY_TIMEOUT)
            if not await self._unless_halted(start):
                return STOPPING, False, 0.0, False
            connected_at = time.monotonic()
            logger.info("tunnel %s connected: %s", self.conf.NAME, connector.url or "(url unknown)")
            self.reporter.transition(
                TunnelState.CONNECTED,
                TunnelEvent.Kind.CONNECTED,
                url=connector.url or "",
                backoff=0.0,
            )
            reason = await self._monitor(connector, probe)
            return reason, False, time.monotonic() - connected_at, _proven(connector, probe)
        except ConnectorError as exc:
            proven = connector is not None and _proven(connector, probe)
            return exc.reason, exc.operator_needed, _since(connected_at), proven
        except TimeoutError:
            last = f": {connector.last_check}" if connector and connector.last_check else ""
            return f"not ready within {self.conf.READY_TIMEOUT:.0f}s{last}", False, 0.0, False
        except Exception as exc:  # a bug in one attempt must not end supervision
            logger.exception("tunnel %s: unexpected connector error", self.conf.NAME)
            return (
                f"unexpected error: {type(exc).__name__}: {exc}",
                False,
                _since(connected_at),
                False,
            )
        finally:
            if connector is not None:
                await self._stop(connector)
            self.current = None

    async def _start(self, connector: Connector, probe: _Probe) -> None:
        """Start the connector; with a probe URL, ready only once the far side answers."""
        await connector.start()
        if not self.conf.PROBE_URL:
            return
        while (error := await probe.once()) is not None:
            connector.last_check = f"end-to-end probe: {error}"
            await asyncio.sleep(min(1.0, self.conf.CHECK_INTERVAL))

    async def _stop(self, connector: Connector) -> None:
        grace = self.stop_grace
        try:
            await asyncio.wait_for(connector.stop(grace), grace + 10)
        except Exception:  # a connector that cannot stop must not stop the supervisor
            logger.exception("tunnel %s: error while stopping the connector", self.conf.NAME)

    async def _monitor(self, connector: Connector, probe: _Probe) -> str:
        """Watch process, readiness and the optional probe; return why the tunnel is broken."""
        down = asyncio.ensure_future(connector.wait_down())
        halted = asyncio.ensure_future(self.halt.wait())
        unready_since: float | None = None
        try:
            while True:
                await asyncio.wait({down, halted}, timeout=self.conf.CHECK_INTERVAL)
                if self.halt.is_set():
                    return STOPPING
                if down.done():
                    return down.result()
                reason = await connector.check()
                if reason is None and probe.failures:  # the far side is what counts when probed
                    reason = f"end-to-end probe failing: {probe.error}"
                unready_since, broken = self._readiness(reason, unready_since, connector)
                if broken:
                    return broken
                if failure := await probe.due_and_failing():
                    return failure
        finally:
            down.cancel()
            halted.cancel()

    def _readiness(
        self, reason: str | None, unready_since: float | None, connector: Connector
    ) -> tuple[float | None, str | None]:
        """Report readiness loss at once; restart only after UNREADY_GRACE (not too eager)."""
        now = time.monotonic()
        if reason is None:
            if unready_since is not None:
                self.reporter.transition(
                    TunnelState.CONNECTED, TunnelEvent.Kind.CONNECTED, url=connector.url or ""
                )
            return None, None
        if unready_since is None:
            logger.warning("tunnel %s not ready: %s", self.conf.NAME, reason)
            self.reporter.transition(
                TunnelState.RECONNECTING, TunnelEvent.Kind.DISCONNECTED, error=reason
            )
            return now, None
        if now - unready_since >= self.conf.UNREADY_GRACE:
            return now, f"{reason} (for {now - unready_since:.0f}s)"
        return unready_since, None

    async def _unless_halted(self, work: Awaitable[None]) -> bool:
        """Run work unless halt is set first; False (work cancelled) when halted."""
        task = asyncio.ensure_future(work)
        halted = asyncio.ensure_future(self.halt.wait())
        try:
            await asyncio.wait({task, halted}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            halted.cancel()
        if task.done():
            task.result()  # re-raises ConnectorError / TimeoutError
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return False

    async def _sleep(self, delay: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.halt.wait(), delay)


class _Probe:
    """End-to-end probe through the far side (TUNNEL_PROBE_URL): any HTTP answer below 500."""

    def __init__(self, conf: TunnelSettings) -> None:
        self.conf = conf
        self.failures = 0
        self.passed = False
        self.error: str | None = None
        self.next_at = time.monotonic() + conf.PROBE_INTERVAL

    async def once(self) -> str | None:
        """Probe now; remembers whether it ever passed and the consecutive failures."""
        self.next_at = time.monotonic() + self.conf.PROBE_INTERVAL
        self.error = await probe_once(self.conf.PROBE_URL, self.conf.PROBE_TIMEOUT)
        self.failures = self.failures + 1 if self.error else 0
        self.passed = self.passed or self.error is None
        return self.error

    async def due_and_failing(self) -> str | None:
        if not self.conf.PROBE_URL or time.monotonic() < self.next_at:
            return None
        if error := await self.once():
            logger.warning("tunnel %s probe failed (%d): %s", self.conf.NAME, self.failures, error)
        if self.failures >= self.conf.PROBE_FAILURES:
            return f"end-to-end probe failed {self.failures} times: {error}"
        return None


def _proven(connector: Connector, probe: _Probe) -> bool:
    """Did this connection demonstrably work (forwarded a connection or passed its probe)?"""
    return connector.carried > 0 or probe.passed


async def probe_once(url: str, timeout: float) -> str | None:
    """GET url with a hard timeout; None when something behind the tunnel answered (< 500)."""
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=timeout) as client:
            response = await asyncio.wait_for(client.get(url), timeout + 1)
    except (TimeoutError, httpx.HTTPError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if response.status_code < 500 else f"HTTP {response.status_code}"


def _since(started: float | None) -> float:
    return time.monotonic() - started if started is not None else 0.0
