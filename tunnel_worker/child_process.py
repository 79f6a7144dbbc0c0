"""Connector child processes: own session, under a subreaper shim, killed as a whole.

The worker starts ``reaper.py`` (a standard-library shim) in a new session, and the shim runs
the connector. The shim is a child subreaper that SIGKILLs every descendant when the worker
dies, so a wrapper (``sh -c 'ssh ...'``) cannot leave a grandchild serving traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
REAPER = Path(__file__).with_name("reaper.py")
CONNECTOR_MARK = "TUNNEL_WORKER_CONNECTOR"  # env marker so stray connectors can be found

_prctl = None
if sys.platform.startswith("linux"):
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    _prctl = _libc.prctl  # resolved before fork: the child only makes the call


def _child_setup(parent_pid: int) -> None:
    """Runs in the shim between fork and exec: die if the supervisor dies before it is armed."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class ConnectorProcess:
    """A supervised child: started in a new session, output logged and kept for errors."""

    def __init__(
        self, argv: Sequence[str], *, env: Mapping[str, str], tag: str, grace: float = 10.0
    ) -> None:
        self.argv = list(argv)
        self.grace = grace
        self.env = dict(env)
        self.tag = tag
        self.proc: asyncio.subprocess.Process | None = None
        self.output: deque[str] = deque(maxlen=40)
        self.line_seen = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def start(self) -> None:
        """Spawn the child in its own process group with PDEATHSIG set."""
        parent = os.getpid()
        await asyncio.get_running_loop().run_in_executor(None, reap_orphans, self.tag)
        env = {**self.env, CONNECTOR_MARK: self.tag}
        shim = [sys.executable, "-I", str(REAPER), str(parent), f"{max(self.grace - 0.5, 0)}"]
        self.proc = await asyncio.create_subprocess_exec(
            *shim,
            "--",
            *self.argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=functools.partial(_child_setup, parent),
        )
        self._reader = asyncio.create_task(self._read_output())
        logger.info("tunnel %s: started %s (pid %s)", self.tag, self.argv[0], self.proc.pid)

    async def _read_output(self) -> None:
        assert self.proc and self.proc.stdout
        while line := await self.proc.stdout.readline():
            text = line.decode(errors="replace").rstrip()
            self.output.append(text)
            self.line_seen.set()
            logger.info("tunnel %s | %s", self.tag, text)

    def exited(self) -> bool:
        return self.proc is None or self.proc.returncode is not None

    async def wait(self) -> int:
        assert self.proc
        code = await self.proc.wait()
        if self._reader:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), 1.0)
        return code

    def tail(self, lines: int = 5) -> str:
        return " / ".join(list(self.output)[-lines:])

    async def stop(self, grace: float) -> None:
        """SIGTERM the whole group, wait up to grace, then SIGKILL whatever is left of it.

        With no grace (fencing) the shim is told to SIGKILL every descendant at once.
        """
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the shim leads its own group
        if grace <= 0:
            self.kill_now()
        else:
            _killpg(pgid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), max(grace, 1.0))
        except TimeoutError:
            logger.warning("tunnel %s: pid %s ignored SIGTERM for %.0fs", self.tag, pgid, grace)
        _killpg(pgid, signal.SIGKILL)  # stragglers of the group, even after the leader left
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 5.0)
        if self._reader:
            self._reader.cancel()

    def kill_now(self) -> None:
        """Fencing: the shim SIGKILLs every descendant at once (the group if it is gone)."""
        if self.proc is None:
            return
        if self.exited():
            _killpg(self.proc.pid, signal.SIGKILL)
        else:
            _kill(self.proc.pid, signal.SIGUSR1)


def reap_orphans(tag: str) -> list[int]:
    """SIGKILL processes left by an earlier, killed supervisor of this tunnel (same host).

    PR_SET_PDEATHSIG reaches only the direct child; anything it forked keeps our marker in its
    environment, so the next supervisor (the lease guarantees there is one) finds and ends it.
    """
    import psutil

    mine = {p.pid for p in psutil.Process().children(recursive=True)} | {os.getpid()}
    killed = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid in mine:
            continue
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(CONNECTOR_MARK) == tag:
                proc.kill()
                killed.append(proc.pid)
    if killed:
        logger.warning("tunnel %s: killed orphaned connector processes %s", tag, killed)
    return killed


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
