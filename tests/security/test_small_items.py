"""The small holes, each reproduced: deeply nested JSON and a 5,000-digit page (500 before),
the Host reflected into WWW-Authenticate and the resource metadata, a pooled connection keeping
the last tenant's search_path, Idempotency-Keys shared by all tokens of a tenant, tokens sent in
a URL reaching uvicorn's access log, and connector processes inheriting the whole environment."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.api.conftest import make_client, make_item, make_location
from tests.support import MCP_HEADERS, issue, live_server, running, unique_name, wait_until
from tests.tunnel_worker.support import run_tunnel, tunnel_env

HOST = "alpha.localhost"


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    body = response.json()["error"]
    assert set(body) == {"code", "message", "fields"}
    return body


def test_deeply_nested_json_is_a_400(server, tenant_a) -> None:  # noqa: ANN001
    token = issue(tenant_a, "stock:write", "stock:read")
    body = b"[" * 30_000 + b"]" * 30_000  # 60,000 bytes: under the 64 KiB cap
    headers = {"Host": HOST, "Authorization": f"Bearer {token}"}
    headers["Content-Type"] = "application/json"
    for path in ("/api/v1/items", "/api/v1/movements"):
        response = httpx.post(
            server.url + path, content=body, headers={**headers, "Idempotency-Key": "n1"}
        )
        assert _error(response, 400)["code"] in ("parse_error", "invalid")
    mcp = httpx.post(
        server.url + "/mcp",
        content=b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ' + body + b"}",
        headers={
            **MCP_HEADERS,
            "Authorization": f"Bearer {issue(tenant_a)}",
            "Content-Type": "application/json",
        },
    )
    assert 400 <= mcp.status_code < 500 or mcp.json().get("error"), mcp.text[:300]


def test_a_5000_digit_page_is_a_400(server, tenant_a) -> None:  # noqa: ANN001
    token = issue(tenant_a, "stock:read")
    headers = {"Host": HOST, "Authorization": f"Bearer {token}"}
    for param in ("page", "page_size"):
        response = httpx.get(f"{server.url}/api/v1/items?{param}={'9' * 5000}", headers=headers)
        assert _error(response, 400)["fields"] == {
            param: [response.json()["error"]["fields"][param][0]]
        }


@pytest.mark.parametrize(
    "host",
    ['evil.example", error="injected', "evil.example", 'alpha.localhost"x', "a b"],
)
def test_host_is_never_reflected(server, host) -> None:  # noqa: ANN001
    response = httpx.post(server.url + "/mcp", json={}, headers={"Host": host})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert "evil" not in challenge and "injected" not in challenge and '"x' not in challenge
    assert challenge.count('"') % 2 == 0 and challenge.startswith('Bearer realm="mcp"')
    meta = httpx.get(
        server.url + "/.well-known/oauth-protected-resource/mcp", headers={"Host": host}
    )
    assert meta.status_code == 404 and "evil" not in meta.text


def test_a_configured_resource_url_wins_over_any_host() -> None:
    from dataclasses import replace

    from mcp_bridge.conf import mcp_settings
    from mcp_bridge.resource_metadata import metadata_url, resource_url

    conf = replace(mcp_settings(), resource_url="https://mcp.example.com/mcp")
    scope = {"type": "http", "scheme": "http", "headers": [(b"host", b'evil", x="y')]}
    assert resource_url(scope, conf) == "https://mcp.example.com/mcp"
    assert metadata_url(scope, conf) == (
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    )


def test_a_pooled_connection_never_runs_in_its_previous_users_schema(tenant_a) -> None:  # noqa: ANN001
    """A connection that served a tenant goes back to the pool without a reset round trip; the
    next checkout's first statement still runs in the schema in force there, because django-tenants
    sets search_path on every checkout's first cursor (ops.pgbackend)."""
    pool = connection.pool
    assert pool is not None, "the tests run with the connection pool on (DB_POOL)"
    connection.close()
    with schema_context(tenant_a.schema_name):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), current_schemas(false)")
            pid, schemas = cursor.fetchone()
        assert schemas[0] == tenant_a.schema_name
        connection.close()  # back to the pool, still SET to the tenant on the server
    # Take every idle connection, so the tenant's one is among those checked out.
    seen = {}
    taken = []
    try:
        while len(taken) < pool.get_stats()["pool_size"] and pid not in seen:
            with schema_context("public"), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), current_schemas(false)")
                backend, now = cursor.fetchone()
            seen[backend] = now
            taken.append(connection.connection)
            connection.connection = None  # keep it out of the pool while we look at the next
            connection.close()
    finally:
        for conn in taken:
            pool.putconn(conn)
    assert pid in seen, "the tenant's connection was not handed out again"
    assert seen[pid] == ["public"], seen


def test_idempotency_keys_are_scoped_to_the_token(server, tenant_a, unique_sku) -> None:  # noqa: ANN001
    first = issue(tenant_a, "stock:read", "stock:write", name=f"first-{uuid.uuid4().hex[:6]}")
    second = issue(tenant_a, "stock:read", "stock:write", name=f"second-{uuid.uuid4().hex[:6]}")
    key = f"order-{unique_sku}"
    with make_client(server, HOST, first) as api:
        make_item(api, unique_sku)
        location = make_location(api)
        body = {"kind": "receipt", "sku": unique_sku, "quantity": 3, "to_location": location}
        original = api.post("/movements", json=body, headers={"Idempotency-Key": key})
        assert original.status_code == 201
        retry = api.post("/movements", json=body, headers={"Idempotency-Key": key})
        assert retry.headers.get("idempotent-replayed") == "true"  # the same token replays
    with make_client(server, HOST, second) as api:
        other = api.post("/movements", json=body, headers={"Idempotency-Key": key})
    assert other.status_code == 201 and other.headers.get("idempotent-replayed") is None
    assert other.json()["id"] != original.json()["id"]
    assert "first-" not in other.text  # never the other token's name (the actor)


def test_tokens_in_a_url_are_redacted_from_the_access_log(tenant_a) -> None:  # noqa: ANN001
    secret = "inv_abcdef123456_" + uuid.uuid4().hex
    other = "S" + uuid.uuid4().hex
    with live_server(access_log=True) as srv:
        for query in (f"token={secret}", f"access_token={other}", f"key={secret}"):
            httpx.get(f"{srv.url}/api/v1/items?{query}", headers={"Host": HOST})
        httpx.get(f"{srv.url}/mcp?token={secret}")
        wait_until(lambda: srv.log().count("/mcp") >= 1, 10, "access log lines")
        log = srv.log()
    assert "GET /api/v1/items?" in log  # uvicorn's access log is on
    assert secret[17:] not in log and other not in log


def test_connector_processes_get_a_minimal_environment(tmp_path: Path) -> None:
    out = tmp_path / "connector-env"
    name = unique_name("envdump")
    env = tunnel_env(
        name,
        "http://127.0.0.1:9",
        TUNNEL_BACKEND="command",
        TUNNEL_COMMAND=f"sh -c 'env > {out}.tmp && mv {out}.tmp {out} && exec sleep 60'",
        TUNNEL_COMMAND_SETTLE="0.5",
        TUNNEL_CONNECTOR_ENV="MY_CONNECTOR_SETTING,FRP_*",
        MY_CONNECTOR_SETTING="kept",
        FRP_TOKEN="kept-too",
        DJANGO_SECRET_KEY="s" * 50,
        UNRELATED_SECRET="dropped",
    )
    with running(run_tunnel(env, tmp_path / "t.log")):
        wait_until(out.exists, 30, "the connector to write its environment")
    seen = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    assert (
        seen["PATH"] and seen["MY_CONNECTOR_SETTING"] == "kept" and seen["FRP_TOKEN"] == "kept-too"
    )
    leaked = {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "UNRELATED_SECRET"} & set(seen)
    leaked |= {k for k in seen if k.startswith(("TUNNEL_", "CELERY_", "DJANGO_"))}
    leaked -= {"TUNNEL_WORKER_CONNECTOR"}  # the supervisor's own marker for stray connectors
    assert not leaked, leaked
