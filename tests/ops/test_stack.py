"""The whole stack from the Procfile under honcho (web with two gunicorn/uvicorn workers, Celery
worker, beat, the tunnel worker dialling the local SSH edge): ready, one REST call, one MCP call
through the tunnel, and the named series at /metrics."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.support import (
    ROOT,
    Proc,
    free_port,
    get,
    manage,
    mcp_check_stock,
    metric_value,
    run,
    stock_on_hand,
    subprocess_env,
    wait_until,
)
from tunnel_worker.selectors import tunnel_state

METRICS_TOKEN = "stack-metrics-" + uuid.uuid4().hex[:8]
VENV_BIN = str(Path(sys.executable).parent)


def _edge(tmp: Path) -> tuple[Proc, dict[str, str]]:
    """`manage.py tunnel_edge` (development settings: it refuses to run with DEBUG off)."""
    port, remote = free_port(), free_port()
    args = ["--port", str(port), "--remote-port", str(remote), "--dir", str(tmp / "edge")]
    env = subprocess_env(DJANGO_SETTINGS_MODULE="config.settings.dev")
    printed = run([sys.executable, "manage.py", "tunnel_edge", *args, "--print-env"], env=env)
    assert printed.returncode == 0, printed.stderr
    tunnel_env = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in printed.stdout.splitlines()
        if line.startswith("export ")
    )
    argv = [sys.executable, "manage.py", "tunnel_edge", *args]
    edge = Proc(argv, env=env, log_path=tmp / "edge.log")
    return edge, tunnel_env


@pytest.fixture
def stack(tenant_a, tmp_path: Path) -> Iterator[dict[str, object]]:  # noqa: ANN001
    edge, edge_env = _edge(tmp_path)
    port, mcp_port = free_port(), free_port()
    name = f"stack-{uuid.uuid4().hex[:8]}"
    env = subprocess_env(
        **edge_env,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        WEB_BIND="127.0.0.1",
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        METRICS_TOKEN=METRICS_TOKEN,
        CELERY_BROKER_URL=settings.REDIS_URL,
        CELERY_RESULT_BACKEND=settings.REDIS_URL,
        CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
        CELERY_CONCURRENCY="1",
        TUNNEL_NAME=name,
        MCP_PORT=str(mcp_port),  # the Procfile's `mcp` process: the tunnel's upstream
        TUNNEL_UPSTREAM=f"http://127.0.0.1:{mcp_port}",
        TUNNEL_REDIS_URL=settings.REDIS_URL,
        TUNNEL_GATES_READINESS="1",  # green /readyz then also means the tunnel is up
        TUNNEL_BACKOFF_CAP="3",
        TUNNEL_LEASE_TTL="6",
        TUNNEL_HEARTBEAT_INTERVAL="1",
    )
    honcho = Proc(
        [
            sys.executable,
            "-m",
            "honcho",
            "start",
            "-f",
            str(ROOT / "Procfile"),
            "-p",
            str(port),
            "--no-colour",
        ],
        env=env,
        log_path=tmp_path / "honcho.log",
    )
    try:
        yield {"url": f"http://127.0.0.1:{port}", "tunnel": name, "honcho": honcho}
    finally:
        # SIGTERM to honcho (it stops its processes), then whatever of its group is left.
        honcho.terminate(60, group=True)
        edge.terminate(10, group=True)


def test_procfile_stack_serves_rest_mcp_and_metrics(stack, tenant_a, unique_sku):  # noqa: ANN001
    url, name, honcho = stack["url"], stack["tunnel"], stack["honcho"]
    stock_on_hand(tenant_a.schema_name, unique_sku, on_hand=6, reorder_point=2)
    issued = manage(
        "issue_token",
        "--tenant",
        tenant_a.schema_name,
        "--name",
        f"stack-{unique_sku}",
        "--scope",
        "stock:read",
        "--scope",
        "mcp",
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()

    def ready() -> bool:
        with contextlib.suppress(Exception):
            return get(f"{url}/readyz", "localhost", timeout=10).status_code == 200
        return False

    try:
        wait_until(ready, 240, "/readyz green (database, broker, migrations, tunnel)", 1.0)
    except AssertionError:
        raise AssertionError(honcho.log()[-4000:]) from None
    body = get(f"{url}/readyz", "localhost").json()
    assert body["checks"]["tunnel"]["required"] is True and body["checks"]["tunnel"]["up"] is True

    auth = {"Authorization": f"Bearer {token}"}
    rest = get(f"{url}/api/v1/stock/{unique_sku}", "alpha.localhost", headers=auth)
    assert rest.status_code == 200 and rest.json()["quantity"] == 6
    missing = get(f"{url}/api/v1/no-such-endpoint", "alpha.localhost", headers=auth)
    assert missing.status_code == 404

    tunnel_url = tunnel_state(name)["url"]  # the edge's side of the tunnel, not the web port
    assert tunnel_url and not tunnel_url.startswith(url)
    result = mcp_check_stock(tunnel_url, token, unique_sku)
    assert result["found"] is True and result["quantity"] == 6

    text = get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    stock_route = "api/v1/stock/<str:sku>"
    assert metric_value(
        text, "http_request_duration_seconds_count", route=stock_route, status="200"
    )
    assert metric_value(text, "http_request_duration_seconds_bucket", route="/mcp", le="+Inf")
    assert metric_value(text, "mcp_tool_calls_total", tool="check_stock", outcome="found") >= 1
    assert metric_value(text, "rest_errors_total", status="404", code="not_found") >= 1
    assert metric_value(text, "tunnel_up", tunnel=name) == 1.0
    assert metric_value(text, "tunnel_reconnects_total", tunnel=name) is not None
    assert metric_value(text, "tunnel_backoff_seconds", tunnel=name) == 0.0
    assert metric_value(text, "celery_queue_length", queue="default") is not None
    assert metric_value(text, "celery_queue_length", queue="tunnel") is not None
    # Every Procfile process is still running under honcho.
    log = honcho.log()
    for process in ("web", "mcp", "worker", "beat", "tunnel"):
        assert f"{process}.1 " in log or f"{process}.1 |" in log, log[-3000:]
