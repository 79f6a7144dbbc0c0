"""`make run`: migrate, seed the demo tenant once, then run the web server, a Celery worker and
beat, and the tunnel (with a local SSH edge) until Ctrl-C. Development use only.

Runs inside `python -m config.embedded`, which supplies DATABASE_URL and REDIS_URL.
"""

import json
import os
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


def _processes(env: dict[str, str]) -> dict[str, list[str]]:
    procs = {
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
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "default",
            "-c",
            "1",
            "--loglevel",
            "INFO",
            "-n",
            "default@%h",
        ],
        "beat": [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(DATA / "celerybeat-schedule"),
        ],
    }
    procs.update(_tunnel_processes(env))
    return procs


def _tunnel_processes(env: dict[str, str]) -> dict[str, list[str]]:
    try:
        from tunnel_worker import devstack  # noqa: PLC0415 - optional until the tunnel app is present
    except ImportError:
        return {}
    return devstack.processes(python=PY, data_dir=DATA, env=env, upstream_port=PORT)


def _wait_ready(url: str, host: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, headers={"Host": host}, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"the web server did not answer on {url} within {timeout:.0f}s")


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
    for name, cmd in _processes(env).items():
        children[name] = subprocess.Popen(cmd, cwd=ROOT, env=env)
    _wait_ready(f"http://127.0.0.1:{PORT}/admin/login/", "demo.localhost")
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
