"""/healthz, /readyz and /metrics on every host; /readyz turns 503 naming what is down."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.support import (
    LiveServer,
    database_proxy,
    database_url_via,
    free_port,
    get,
    live_server,
    metric_value,
    wait_until,
)

METRICS_TOKEN = "ops-test-metrics-token-5b1e"
HOSTS = ["localhost", "alpha.localhost", "no-such-tenant.example", "127.0.0.1"]


@pytest.fixture(scope="module")
def ops_server(tenant_a, tenant_b) -> Iterator[LiveServer]:  # noqa: ANN001
    with live_server(METRICS_TOKEN=METRICS_TOKEN) as srv:
        yield srv


@pytest.mark.parametrize("host", HOSTS)
def test_healthz_and_readyz_answer_on_every_host(ops_server: LiveServer, host: str):
    live = get(ops_server.url + "/healthz", host)
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = get(ops_server.url + "/readyz", host)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ok" and body["failing"] == []
    checks = body["checks"]
    assert set(checks) == {"database", "broker", "migrations", "tunnel"}
    assert all(checks[name]["ok"] for name in ("database", "broker", "migrations"))
    assert checks["migrations"]["tenants"] >= 2 and checks["migrations"]["pending"] == []
    assert checks["tunnel"]["required"] is False  # TUNNEL_GATES_READINESS is off by default


def test_metrics_needs_the_token(ops_server: LiveServer):
    assert get(ops_server.url + "/metrics").status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    assert get(ops_server.url + "/metrics", headers=wrong).status_code == 403
    ok = get(ops_server.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain")
    get(ops_server.url + "/admin/login/", "alpha.localhost")
    text = get(
        ops_server.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    ).text
    assert metric_value(
        text, "http_request_duration_seconds_count", route="admin/login/", status="200"
    )
    assert metric_value(text, "celery_queue_length", queue="default") is not None
    assert metric_value(text, "tunnel_up") is not None


def test_request_id_is_echoed_or_made(ops_server: LiveServer):
    mine = get(
        ops_server.url + "/admin/login/", "alpha.localhost", headers={"X-Request-ID": "abc-123"}
    )
    assert mine.headers["x-request-id"] == "abc-123"
    made = get(
        ops_server.url + "/admin/login/", "alpha.localhost", headers={"X-Request-ID": "bad id!"}
    )
    assert made.headers["x-request-id"] != "bad id!" and len(made.headers["x-request-id"]) == 32


def test_readyz_names_pending_migrations_then_the_database_when_it_goes(tenant_b):
    proxy = database_proxy()
    env = {
        "DATABASE_URL": database_url_via(proxy.port),
        "READYZ_MIGRATIONS_TTL": "0",
    }
    try:
        with live_server(**env) as srv:
            assert get(srv.url + "/readyz").status_code == 200

            # One tenant schema loses its latest inventory migration: not ready, and it says which.
            with connection.cursor() as cur:
                table = f'"{tenant_b.schema_name}".django_migrations'
                cur.execute(
                    f"DELETE FROM {table} WHERE app = 'inventory' AND name = "
                    f"(SELECT max(name) FROM {table} WHERE app = 'inventory') RETURNING name, applied"
                )
                latest, applied = cur.fetchone()
            try:
                behind = get(srv.url + "/readyz")
                assert behind.status_code == 503
                assert behind.json()["failing"] == ["migrations"]
                assert tenant_b.schema_name in behind.json()["checks"]["migrations"]["error"]
            finally:
                with connection.cursor() as cur:
                    cur.execute(
                        f"INSERT INTO {table} (app, name, applied) VALUES ('inventory', %s, %s)",
                        [latest, applied],
                    )
            assert get(srv.url + "/readyz").status_code == 200

            proxy.stop()  # PostgreSQL is now unreachable for this server
            down = get(srv.url + "/readyz", "alpha.localhost")
            assert down.status_code == 503
            body = down.json()
            assert body["status"] == "fail" and body["failing"] == ["database"]
            assert body["checks"]["database"]["ok"] is False
            assert body["checks"]["database"]["error"]
            assert body["checks"]["broker"]["ok"] is True
            assert get(srv.url + "/healthz").status_code == 200  # liveness has no dependencies
    finally:
        proxy.stop()


def test_readyz_names_the_broker_when_it_is_down():
    closed = free_port()
    with socket.socket() as probe:  # nothing listens there
        assert probe.connect_ex(("127.0.0.1", closed)) != 0
    with live_server(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed}/0") as srv:
        response = wait_until(lambda: get(srv.url + "/readyz"), 5, "readyz")
        assert response.status_code == 503
        assert response.json()["failing"] == ["broker"]


def test_readyz_checks_are_bounded_by_psycopg_timeouts():
    # A server that accepts TCP but never answers: the database check fails, it does not hang.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{silent.getsockname()[1]}/x"}
        server = LiveServer(ready_path="/healthz", **env)
        try:
            server.start()
            response = get(server.url + "/readyz", timeout=30)
            assert response.status_code == 503 and "database" in response.json()["failing"]
        finally:
            server.stop()
    finally:
        silent.close()
