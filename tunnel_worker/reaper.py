"""A tiny supervisor between the worker and an external connector: nothing outlives the worker.

Run as ``python reaper.py <parent pid> <grace> -- argv...`` (standard library only, so it starts
in milliseconds and needs no Django). It becomes a child subreaper (PR_SET_CHILD_SUBREAPER), so
every process the connector forks stays its descendant even when an intermediate one exits
(``sh -c 'ssh ...'``, daemonizing wrappers, helpers that start their own session), and asks the
kernel for SIGTERM when the worker dies (PR_SET_PDEATHSIG). Then:

- the worker stops it (SIGTERM to the group): it forwards SIGTERM to every descendant, waits up
  to ``grace`` seconds, SIGKILLs what is left and exits with the connector's status (SIGUSR1:
  the same without grace, when the worker's lease is fenced);
- the worker dies (SIGKILL included): every descendant is SIGKILLed at once;
- the connector exits by itself: leftovers of it are SIGKILLed and its status is passed on.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(option, value, 0, 0, 0)


def descendants(root: int) -> list[int]:
    """Pids below root, from /proc (children first found, then theirs)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def signal_all(sig: int) -> None:
    for pid in descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def reap() -> int | None:
    """Collect exited children (we are their subreaper); the connector's status if it exited."""
    status = None
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            return status
        if pid == CHILD:
            status = os.waitstatus_to_exitcode(code)


def main(argv: list[str]) -> int:
    global CHILD
    parent, grace, command = int(argv[0]), float(argv[1]), argv[3:]
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    stopping: list[float] = []  # the grace to give, once asked to stop
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(grace))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(grace))
    signal.signal(signal.SIGUSR1, lambda *_: stopping.append(0.0))  # fenced: no grace
    if os.getppid() != parent:  # the worker died before PDEATHSIG was armed
        return 1
    CHILD = os.fork()
    if CHILD == 0:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)  # noqa: S606 - the operator's connector argv
        except OSError as exc:
            print(f"cannot run {command[0]!r}: {exc}", file=sys.stderr, flush=True)
        os._exit(127)
    status = None
    while status is None and not stopping:
        if os.getppid() != parent:  # belt and braces next to PDEATHSIG
            break
        time.sleep(0.1)
        status = reap()
    if os.getppid() != parent:
        signal_all(signal.SIGKILL)  # the worker is gone: nothing of its connector may survive
        reap()
        return 1
    if status is None:  # asked to stop: graceful first
        signal_all(signal.SIGTERM)
        deadline = time.monotonic() + min(stopping or [grace])
        while status is None and time.monotonic() < deadline and os.getppid() == parent:
            time.sleep(0.1)
            status = reap()
    signal_all(signal.SIGKILL)  # stragglers, including daemons that left the process group
    time.sleep(0.05)
    final = reap()
    status = status if status is not None else final
    if status is None:
        return 128 + signal.SIGKILL
    return status if status >= 0 else 128 - status


CHILD = 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
