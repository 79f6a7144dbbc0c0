"""Pooled connections are recycled once they served their budget of tenant schemas.

A PostgreSQL backend keeps the catalog cache of every schema it touched; ops.pgbackend replaces
a pooled connection after DB_POOL_MAX_SCHEMAS distinct tenant schemas (docs/operations.md).
Observed from outside: the server's backend in pg_stat_activity (its own application_name).
"""

from __future__ import annotations

import uuid

import psycopg
from django_tenants.utils import schema_context

from ops.dbconn import psycopg_conninfo
from tests.conftest import provision
from tests.support import get, issue, live_server, stock_item, wait_until


def _backends(app: str) -> set[int]:
    with psycopg.connect(**psycopg_conninfo(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [app]
        ).fetchall()
    return {pid for (pid,) in rows}


def test_connection_past_its_schema_budget_is_replaced_and_the_next_call_works(
    tenant_a, tenant_b, unique_sku: str
):
    with schema_context("public"):  # an earlier test may leave the connection in a tenant
        tenant_c = provision(f"recycle_{uuid.uuid4().hex[:8]}")
    tenants = [tenant_a, tenant_b, tenant_c]
    calls = []
    for n, tenant in enumerate(tenants):
        stock = stock_item(tenant, unique_sku, quantity=3 + n)
        host = tenant.domains.get().domain
        auth = {"Authorization": f"Bearer {issue(tenant, 'stock:read')}"}
        calls.append((host, auth, stock.quantity))
    app = f"recycle-{uuid.uuid4().hex[:8]}"
    # One pooled connection, a budget of two tenant schemas (too small for any jitter).
    with live_server(
        DB_POOL_MIN="1", DB_POOL_MAX="1", DB_POOL_MAX_SCHEMAS="2", PGAPPNAME=app
    ) as srv:

        def quantity_at(i: int) -> int:
            host, auth, _ = calls[i]
            response = get(f"{srv.url}/api/v1/stock/{unique_sku}", host, headers=auth)
            assert response.status_code == 200, response.text
            return response.json()["quantity"]

        assert quantity_at(0) == calls[0][2]
        first = wait_until(lambda: _backends(app), 10, "the server's backend")
        assert len(first) == 1
        assert quantity_at(1) == calls[1][2]  # two schemas: within the budget, same backend
        assert quantity_at(0) == calls[0][2]
        assert _backends(app) == first

        assert quantity_at(2) == calls[2][2]  # the third schema: replaced at check-in
        second = wait_until(lambda: (b := _backends(app)) and b != first and b, 10, "new backend")
        assert not second & first, (first, second)
        assert quantity_at(1) == calls[1][2]  # the next call works, on the fresh connection
        assert _backends(app) == second
        assert "recycling database connection" in srv.log()
