"""`make run`: migrate, seed the demo tenant once, then run the web server, a Celery worker and
beat, and the tunnel (with a local SSH edge) until Ctrl-C. Development use only.

Runs inside `python -m config.embedded`, which supplies DATABASE_URL and REDIS_URL.
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

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PORT = int(os.environ.get("PORT", "8000"))
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
    env["TUNNEL_UPSTREAM"] = f"http://127.0.0.1:{PORT}"
    bind, port = env.get("TUNNEL_SSH_REMOTE_BIND", "127.0.0.1"), env.get("TUNNEL_SSH_REMOTE_PORT")
    if port:
        env.setdefault("TUNNEL_PUBLIC_URL", f"http://{bind}:{port}/mcp")
        env.setdefault("TUNNEL_PROBE_URL", env["TUNNEL_PUBLIC_URL"])  # end to end, far side
    return env


def _wait_ready(url: str, host: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, headers={"Host": host}, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"the web server did not answer on {url} within {timeout:.0f}s")


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
    from mcp_bridge.client_config import client_config  # noqa: PLC0415

    base = f"http://demo.localhost:{PORT}"
    lines = [
        "",
        "Inventory service is running (Ctrl-C stops everything).",
        f"  Tenant admin   {base}/admin/      login: keeper / demo-keeper-2026",
        f"  Public admin   http://localhost:{PORT}/admin/  (create a login: manage.py createsuperuser)",
        f"  REST API docs  {base}/api/v1/docs/",
        f"  MCP endpoint   {base}/mcp",
        f"  Demo token     {token}   (stored in .data/demo-token)",
    ]
    tunnel_url = env.get("TUNNEL_PUBLIC_URL")
    if tunnel_url:
        lines.append(f"  Through tunnel {tunnel_url}")
    config = client_config(url=tunnel_url or f"{base}/mcp", token=token)
    lines += [
        "",
        "MCP client configuration (paste into your client):",
        json.dumps(config, indent=2),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    DATA.mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.update(env)
    # Schema changes may take longer than the 2 s cap that protects request-time queries.
    _manage("migrate_schemas", "-v", "0", DB_STATEMENT_TIMEOUT_MS="0")
    _manage("seed_demo")
    token = _demo_token()
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env.update(_tunnel_env())
    for name, cmd in _processes().items():
        children[name] = subprocess.Popen(cmd, cwd=ROOT, env=env)
    _wait_ready(f"http://127.0.0.1:{PORT}/admin/login/", "demo.localhost")
    _wait_tunnel(timeout=30)
    print(_banner(token, env), flush=True)
    while not stopping:
        dead = [n for n, p in children.items() if p.poll() is not None]
        if dead:
            print(f"[make run] {', '.join(dead)} exited; stopping everything", file=sys.stderr)
            break
        time.sleep(0.5)
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
