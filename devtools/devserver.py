"""`make run`: migrate, seed the demo tenant once, then run the web server, a Celery worker and
beat, and the tunnel (with a local SSH edge) until Ctrl-C. Development use only.

Runs inside `python -m devtools.embedded --record`, which supplies DATABASE_URL and REDIS_URL and
records them for commands run in another terminal. Each child process logs to
.data/logs/<name>.log (`make logs` follows them all), so the banner, printed once everything
answers, is the last thing on screen.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mcp_bridge.client_config import client_config
from ops.proxies import forwarded_allow_ips

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
LOGS = DATA / "logs"
PORT = int(os.environ.get("PORT", "8000"))
MCP_PORT = int(os.environ.get("MCP_PORT", str(PORT + 1)))  # the tunnel's upstream: /mcp only
PY = sys.executable


def _manage(*args: str, capture: bool = False, **env: str) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        env={**os.environ, **env},
    )
    return result.stdout or ""


def _demo_token() -> str:
    """An MCP + stock token for the demo tenant, kept in .data/ (mode 600) across runs."""
    path = DATA / "demo-token"
    if path.exists():
        token = path.read_text().strip()
        prefix = token.split("_")[1] if token.count("_") >= 2 else ""
        listed = _manage("list_tokens", "--tenant", "demo", capture=True)
        if any(
            json.loads(line).get("prefix") == prefix and not json.loads(line)["revoked"]
            for line in listed.splitlines()
            if line.strip()
        ):
            return token
    name = f"make-run-{int(time.time())}"
    token = _manage(
        "issue_token",
        "--tenant",
        "demo",
        "--name",
        name,
        "--scope",
        "mcp",
        "--scope",
        "stock:read",
        "--scope",
        "stock:write",
        capture=True,
    ).strip()
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def _processes() -> dict[str, list[str]]:
    celery = [PY, "-m", "celery", "-A", "config"]
    return {
        "web": [
            PY,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            # The tunnel's requests come from loopback: X-Forwarded-* only from TRUSTED_PROXIES.
            "--forwarded-allow-ips",
            forwarded_allow_ips(),
        ],
        "mcp": [
            PY,
            "-m",
            "uvicorn",
            "config.asgi:tunnel_application",
            "--host",
            "127.0.0.1",
            "--port",
            str(MCP_PORT),
            # As the Procfile: every tunnelled request comes from loopback, so no X-Forwarded-*
            # is believed here, and the web process writes the access lines.
            "--no-proxy-headers",
            "--no-access-log",
        ],
        "worker": [
            *celery,
            "worker",
            "-Q",
            "default",
            "-c",
            "1",
            "-n",
            "default@%h",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        "beat": [
            *celery,
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(DATA / "celerybeat-schedule"),
        ],
        # A local SSH edge (development only) and the tunnel worker that dials out to it.
        "edge": [PY, "manage.py", "tunnel_edge"],
        "tunnel": [
            *celery,
            "worker",
            "-Q",
            "tunnel",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--prefetch-multiplier",
            "1",
            "-n",
            "tunnel@%h",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
    }


def _tunnel_env() -> dict[str, str]:
    """TUNNEL_* settings for dialling the local demo edge (keys are created under .data/)."""
    exports = _manage("tunnel_edge", "--print-env", capture=True)
    env = {}
    for line in exports.splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    env["TUNNEL_UPSTREAM"] = f"http://127.0.0.1:{MCP_PORT}"
    bind, port = env.get("TUNNEL_SSH_REMOTE_BIND", "127.0.0.1"), env.get("TUNNEL_SSH_REMOTE_PORT")
    if port:
        env.setdefault("TUNNEL_PUBLIC_URL", f"http://{bind}:{port}/mcp")
        env.setdefault("TUNNEL_PROBE_URL", env["TUNNEL_PUBLIC_URL"])  # end to end, far side
    return env


def _wait_ready(
    url: str, children: dict[str, subprocess.Popen[bytes]], timeout: float = 90
) -> None:
    """Wait for `url` (/readyz) to answer 200; stop early if a child process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(children)
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"[make run] {url} was not ready within {timeout:.0f}s; see {LOGS}/web.log")


def _check_alive(children: dict[str, subprocess.Popen[bytes]]) -> None:
    dead = [name for name, proc in children.items() if proc.poll() is not None]
    if dead:
        tails = "\n".join(_log_tail(name) for name in dead)
        raise SystemExit(f"[make run] {', '.join(dead)} exited:\n{tails}")


def _log_tail(name: str, lines: int = 15) -> str:
    path = LOGS / f"{name}.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return f"--- last lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])


def _wait_tunnel(timeout: float) -> None:
    """Give the tunnel a moment to connect, so the banner's tunnel URL already works."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check = subprocess.run([PY, "manage.py", "tunnel_status"], cwd=ROOT, capture_output=True)
        if check.returncode == 0:
            return
        time.sleep(1)
    print(
        "[make run] the tunnel is not connected yet; `manage.py tunnel_status` shows why",
        file=sys.stderr,
    )


def _banner(token: str, env: dict[str, str]) -> str:
    base = f"http://demo.localhost:{PORT}"
    lines = [
        "",
        "Inventory service is running (Ctrl-C stops everything).",
        f"  Tenant admin   {base}/admin/      login: keeper / demo-keeper-2026",
        f"  Public admin   http://localhost:{PORT}/admin/   "
        "create its login: .venv/bin/python manage.py createsuperuser",
        f"  REST API docs  {base}/api/v1/docs/",
        f"  MCP endpoint   {base}/mcp",
        f"  Demo token     {token}   (stored in .data/demo-token)",
    ]
    tunnel_url = env.get("TUNNEL_PUBLIC_URL")
    if tunnel_url:
        lines.append(f"  Through tunnel {tunnel_url}")
    config = client_config(url=tunnel_url or f"{base}/mcp", token=token)
    lines += [
        f"  Logs           {LOGS}/<web|worker|beat|edge|tunnel>.log   (make logs follows them)",
        "  Commands       .venv/bin/python manage.py ... in another terminal use these services",
        "",
        "MCP client configuration (where each part goes: docs/agents.md, 'Client configuration'):",
        json.dumps(config, indent=2),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PORT=str(PORT))
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.update(env)
    print(f"[make run] migrating and seeding; then starting the services on port {PORT} ...")
    # Schema changes may take longer than the 2 s cap that protects request-time queries.
    _manage("migrate_schemas", "-v", "0", DB_STATEMENT_TIMEOUT_MS="0")
    _manage("seed_demo", capture=True)  # the banner says the same, once everything is up
    token = _demo_token()
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env.update(_tunnel_env())
    try:
        for name, cmd in _processes().items():
            with (LOGS / f"{name}.log").open("ab") as log:
                children[name] = subprocess.Popen(
                    cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                )
        _wait_ready(f"http://127.0.0.1:{PORT}/readyz", children)
        _wait_tunnel(timeout=30)
        print(_banner(token, env), flush=True)
        while not stopping:
            _check_alive(children)
            time.sleep(0.5)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        _shutdown(children)
        return 1
    return _shutdown(children)


def _shutdown(children: dict[str, subprocess.Popen[bytes]]) -> int:
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for proc in children.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    print("[make run] stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
