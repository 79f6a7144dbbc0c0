"""The supervisor loop driven with fake connectors and a recording reporter: what it reports,
when it backs off, when it starts again, and how it stops (no process, no database, no wait)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tunnel_worker.conf import tunnel_settings
from tunnel_worker.connectors import Connector, ConnectorError
from tunnel_worker.models import TunnelEvent, TunnelState
from tunnel_worker.supervisor import Supervisor

# CHECK_INTERVAL 0: the monitor polls without waiting (the fakes answer at once).
CONF = tunnel_settings(
    NAME="unit", CHECK_INTERVAL=0.0, AUTH_BACKOFF_MIN=30.0, UNREADY_GRACE=15.0, STOP_GRACE=10.0
)


class _Zero(random.Random):
    """No jitter wait at all: the loop goes straight to the next attempt."""

    def uniform(self, a: float, b: float) -> float:
        return a


class FakeConnector(Connector):
    """Scripted: `start_error` raised by start(); `down` returned by wait_down() at once (None:
    stays up until stopped); `carried` connections forwarded."""

    def __init__(
        self, *, start_error: BaseException | None = None, down: str | None = None, carried: int = 0
    ) -> None:
        super().__init__(CONF)
        self.start_error, self.down = start_error, down
        self.carried = carried
        self.url = "https://edge.example/mcp"
        self.stopped: list[float] = []
        self.killed = False

    async def start(self) -> None:
        if self.start_error is not None:
            raise self.start_error

    async def wait_down(self) -> str:
        if self.down is None:
            await asyncio.Event().wait()  # up until cancelled
        return str(self.down)

    async def check(self) -> str | None:
        return None

    async def stop(self, grace: float) -> None:
        self.stopped.append(grace)

    def kill_now(self) -> None:
        self.killed = True


class HangingStart(FakeConnector):
    async def start(self) -> None:
        await asyncio.Event().wait()


@dataclass
class Recorder:
    """Stands in for tunnel_worker.reporter.Reporter: keeps what the supervisor reported and
    calls `react` after each call (to halt or fence the supervisor at a chosen point)."""

    react: Callable[[Recorder], None] = lambda recorder: None
    transitions: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, int]] = field(default_factory=list)

    def transition(self, state: str, event: str, **details: Any) -> None:
        self.transitions.append({"state": state, "event": event, **details})
        self.react(self)

    def event(self, kind: str, *, attempt: int = 0, detail: str = "") -> None:
        self.events.append((kind, attempt))
        self.react(self)

    def states(self) -> list[str]:
        return [t["state"] for t in self.transitions]


def supervise(
    connectors: list[FakeConnector], react: Callable[[Recorder, Supervisor], None]
) -> tuple[Recorder, Supervisor]:
    """Run a Supervisor over `connectors` (one per attempt) until `react` halts it."""
    halt = asyncio.Event()
    queue = iter(connectors)
    holder: dict[str, Supervisor] = {}
    recorder = Recorder(react=lambda rec: react(rec, holder["sup"]))
    sup = Supervisor(CONF, halt=halt, reporter=recorder, factory=lambda conf: next(queue))  # type: ignore[arg-type]
    sup.backoff.rng = _Zero()
    holder["sup"] = sup

    asyncio.run(asyncio.wait_for(sup.run(), timeout=30))  # the timeout: a safety net only
    return recorder, sup


def halt_after(count: int) -> Callable[[Recorder, Supervisor], None]:
    def react(rec: Recorder, sup: Supervisor) -> None:
        if len(rec.transitions) >= count:
            sup.halt.set()

    return react


def test_an_operator_fault_is_failed_and_waits_the_floor():
    bad_key = FakeConnector(start_error=ConnectorError("bad key", operator_needed=True))
    rec, _ = supervise([bad_key], halt_after(1))
    [failed] = rec.transitions
    assert failed["state"] == TunnelState.FAILED and failed["event"] == TunnelEvent.Kind.FAILED
    assert failed["error"] == "bad key" and failed["backoff"] >= 30.0
    assert rec.events == [(TunnelEvent.Kind.ATTEMPT, 0)]
    assert bad_key.stopped == [CONF.STOP_GRACE - 2.0]  # stopped even after a failed start


def test_a_connector_that_dies_is_reported_and_a_new_one_started():
    first = FakeConnector(down="process exited with 1")
    second = FakeConnector(start_error=ConnectorError("edge refused"))
    rec, _ = supervise([first, second], halt_after(3))
    connected, reconnecting = TunnelState.CONNECTED, TunnelState.RECONNECTING
    assert rec.states() == [connected, reconnecting, reconnecting]
    assert rec.transitions[0]["url"] == "https://edge.example/mcp"
    assert rec.transitions[1]["error"] == "process exited with 1"
    assert rec.transitions[2]["error"] == "edge refused"
    assert [a for _, a in rec.events] == [0, 1]  # the second attempt counts as the next one
    assert first.stopped and second.stopped


def test_only_a_proven_connection_starts_the_backoff_series_again():
    unproven = [FakeConnector(down="lost"), FakeConnector(down="lost")]
    rec, _ = supervise(unproven, halt_after(4))
    assert [t["attempt"] for t in rec.transitions if t["state"] != TunnelState.CONNECTED] == [0, 1]

    proven = [FakeConnector(down="lost", carried=1), FakeConnector(down="lost", carried=3)]
    rec, _ = supervise(proven, halt_after(4))
    assert [t["attempt"] for t in rec.transitions if t["state"] != TunnelState.CONNECTED] == [0, 0]


def test_a_bug_in_one_attempt_does_not_end_supervision():
    broken = FakeConnector(start_error=RuntimeError("boom"))
    rec, _ = supervise([broken, FakeConnector(down="lost")], halt_after(3))
    assert rec.transitions[0]["state"] == TunnelState.RECONNECTING  # not FAILED: retried
    assert rec.transitions[0]["error"] == "unexpected error: RuntimeError: boom"
    assert rec.states()[1:] == [TunnelState.CONNECTED, TunnelState.RECONNECTING]


def test_halt_interrupts_a_start_that_hangs():
    hanging = HangingStart()

    def halt_on_attempt(rec: Recorder, sup: Supervisor) -> None:
        if rec.events:
            sup.halt.set()

    rec, _ = supervise([hanging], halt_on_attempt)
    assert rec.transitions == []  # stopping is not a failure
    assert hanging.stopped == [CONF.STOP_GRACE - 2.0]


def test_fencing_cuts_the_connector_at_once_without_grace():
    up = FakeConnector()  # stays up

    def fence_when_connected(rec: Recorder, sup: Supervisor) -> None:
        if rec.states() == [TunnelState.CONNECTED]:
            sup.fence()

    rec, sup = supervise([up], fence_when_connected)
    assert up.killed and up.stopped == [0.0]
    assert rec.states() == [TunnelState.CONNECTED]  # no reconnect after the fence
    assert sup.current is None


def test_readiness_loss_is_reported_at_once_and_restarts_only_after_the_grace():
    rec = Recorder()
    sup = Supervisor(CONF, halt=asyncio.Event(), reporter=rec)  # type: ignore[arg-type]
    conn = FakeConnector()

    since, broken = sup._readiness("metrics say not ready", None, conn)
    assert since is not None and broken is None
    assert rec.states() == [TunnelState.RECONNECTING]

    still, broken = sup._readiness("metrics say not ready", since, conn)
    assert still == since and broken is None  # within UNREADY_GRACE: keep waiting

    _, broken = sup._readiness("metrics say not ready", since - CONF.UNREADY_GRACE - 1, conn)
    assert broken is not None and broken.startswith("metrics say not ready (for ")

    assert sup._readiness(None, since, conn) == (None, None)
    assert rec.states()[-1] == TunnelState.CONNECTED  # ready again: reported as connected
