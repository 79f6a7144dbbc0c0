"""The subreaper shim under a connector: every descendant ends on stop, even one that left the
process group (setsid) after its parent shell exited; fencing (no grace) ends them at once."""

from __future__ import annotations

import asyncio
import os
import time

import psutil
import pytest

from tests.support import pid_alive, unique_name, wait_until
from tunnel_worker.child_process import ConnectorProcess

# A shell that starts a helper in a session of its own, then a long-running "connector".
FAMILY = "setsid sleep 301 & sleep 302"


async def _start(grace: float) -> tuple[ConnectorProcess, list[psutil.Process]]:
    child = ConnectorProcess(
        ["sh", "-c", FAMILY], env=dict(os.environ), tag=unique_name("reaper"), grace=grace
    )
    await child.start()
    assert child.pid is not None
    shim = psutil.Process(child.pid)
    wait_until(lambda: len(shim.children(recursive=True)) >= 3, 10, "sh, both sleeps")
    family = shim.children(recursive=True)
    escaped = [p for p in family if p.cmdline()[-1:] == ["301"]]
    assert escaped and os.getpgid(escaped[0].pid) != child.pid  # outside the shim's group
    return child, family


@pytest.mark.parametrize("grace", [2.0, 0.0])
def test_stop_ends_every_descendant(grace: float):
    async def scenario() -> tuple[list[psutil.Process], float]:
        child, family = await _start(grace)
        started = time.monotonic()
        await child.stop(grace)
        return family, time.monotonic() - started

    family, took = asyncio.run(scenario())
    wait_until(lambda: not any(pid_alive(p.pid) for p in family), 3, "whole family gone")
    assert took <= grace + 1.5, f"stop took {took:.1f}s"
