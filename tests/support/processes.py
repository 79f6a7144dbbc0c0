"""Child processes for tests and the bench: the exact environment a command sees, one runner for
commands that finish, one handle for processes that keep running, and the end-of-session sweep."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a command or server that must see the test database."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


# How every command of the tests runs: in the repository, output captured as text, a non-zero
# exit returned (the test decides), not raised.
_CAPTURED: dict[str, Any] = {"cwd": ROOT, "capture_output": True, "text": True, "check": False}


def run(
    argv: list[str], *, env: dict[str, str], input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`argv` in the repository with exactly `env` (nothing added), its output captured."""
    return subprocess.run(argv, env=env, input=input, timeout=timeout, **_CAPTURED)


def python(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python <args>` in the repository with exactly `env` (no test settings forced)."""
    return run([sys.executable, *args], env=env, timeout=timeout)


def manage(
    *args: str, input: str | None = None, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `manage.py <args>` as an operator would, against the test database."""
    argv = [sys.executable, str(ROOT / "manage.py"), *args]
    return run(argv, env=subprocess_env(**env), input=input, timeout=timeout)


class Proc:
    """A process that keeps running (a server, a worker, an edge) in its own session, its output
    in a file. terminate() ends it however the caller ends; `group=True` also kills what it
    started and left behind (the bench, honcho); tests of clean shutdown leave that off."""

    def __init__(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        log_path: Path,
        name: str = "",
        append: bool = False,
    ) -> None:
        self.name = name or Path(argv[0]).name
        self.log_path = log_path
        with log_path.open("ab" if append else "wb") as out:
            self.popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check(self) -> None:
        """Raise, with the end of its output, if it has exited."""
        if not self.alive():
            tail = self.log()[-3000:]
            raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{tail}")

    def log(self, since: int = 0) -> str:
        """Its output, from byte offset `since` on."""
        return self.log_path.read_bytes()[since:].decode(errors="replace")

    def terminate(self, timeout: float = 30, *, group: bool = False) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` s; the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self.kill(group=group)
        return self.popen.returncode

    def kill(self, *, group: bool = False) -> None:
        if group:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        elif self.alive():
            self.popen.kill()
        self.popen.wait(10)

    def stop(self) -> None:
        """End it and everything it started (shutdown in a `finally`)."""
        self.terminate(15, group=True)


@contextlib.contextmanager
def running(*procs: Proc) -> Iterator[None]:
    """Stop the given processes however the test ends."""
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate(timeout=15)


def pid_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def leftover_children(grace: float = 10.0, children: list[Any] | None = None) -> list[str]:
    """Kill `children` (default: all of this process's descendants) that are still alive after
    `grace` seconds; describe them.

    Called once at the end of the session, after every fixture has stopped what it started."""
    import psutil

    if children is None:
        children = psutil.Process().children(recursive=True)
    _, alive = psutil.wait_procs(children, timeout=grace)
    described = []
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            described.append(f"pid {proc.pid}: {' '.join(proc.cmdline())[:200]}")
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    return described


def node_tool(name: str) -> tuple[Path, dict[str, str]]:
    """(launcher, environment with Node >= 22 on PATH) for an npm tool that `make test-deps`
    installed (tests/deps.py); fails the test, saying how to fix it, when it is missing."""
    import pytest

    from tests import deps

    if not deps.node_ready():
        pytest.fail(
            f"{name} and Node >= 22 are not installed in {deps.NODE_DIR}: run `make test-deps`"
        )
    return deps.NODE_DIR / "node_modules" / ".bin" / name, deps.node_env()
