"""The bench database: created and dropped by the bench, seeded with one tenant's stock.

The orchestrator (bench.run) imports this after pointing DATABASE_URL at the bench database and
calling django.setup().
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench"
HOST = "bench.localhost"
HOT_SKU = "HOT-0001"


def bench_url(base_url: str, name: str) -> str:
    """DATABASE_URL with its database name replaced."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def libpq_url(url: str) -> str:
    """A URL libpq accepts (django-environ also takes the postgres:// and pgsql schemes)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme in ("postgres", "pgsql", "postgis") else url


def recreate_database(base_url: str, name: str, *, drop_only: bool = False) -> None:
    admin = libpq_url(bench_url(base_url, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def clone_database(base_url: str, source: str, name: str) -> None:
    """`name` as a copy of `source` (which nobody may be connected to): the 1-tenant twin of H."""
    admin = libpq_url(bench_url(base_url, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')


def migrate_shared(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--shared", "-v", "0"],
        cwd=ROOT,
        env={**env, "DB_STATEMENT_TIMEOUT_MS": "0"},
        check=True,
    )


@dataclass(frozen=True)
class Seeded:
    token: str
    skus: list[str]
    tenant_id: int
    locations: tuple[str, str]


def seed_tenant(items: int) -> Seeded:
    """The bench tenant: `items` SKUs over two locations, an open restock on every third one."""
    from django_tenants.utils import schema_context

    from inventory import services
    from inventory.models import Item, Movement, MovementKind, Restock, StockLevel
    from tenancy.services import tenant_provision, token_issue

    tenant = tenant_provision(schema_name=TENANT, domain=HOST, name="Bench").tenant
    token = token_issue(
        tenant=tenant, name="bench", scopes=["mcp", "stock:read", "stock:write"]
    ).raw
    skus = [HOT_SKU] + [f"BENCH-{n:05d}" for n in range(1, items)]
    soon = date.today() + timedelta(days=7)
    with schema_context(TENANT):
        a = services.location_create(code="LOC-A", name="A")
        b = services.location_create(code="LOC-B", name="B")
        Item.objects.bulk_create([Item(sku=s, name=f"Item {s}") for s in skus])
        by_sku = dict(Item.objects.values_list("sku", "id"))
        levels, moves, restocks = [], [], []
        for n, sku in enumerate(skus):
            qa, qb = 1_000_000 if sku == HOT_SKU else 10 + n % 50, n % 7
            for loc, qty in ((a, qa), (b, qb)):
                levels.append(StockLevel(item_id=by_sku[sku], location=loc, on_hand=qty))
                if qty:
                    moves.append(
                        Movement(
                            kind=MovementKind.RECEIPT,
                            item_id=by_sku[sku],
                            quantity=qty,
                            to_location=loc,
                            actor="bench-seed",
                        )
                    )
            if n % 3 == 0:
                restocks.append(Restock(item_id=by_sku[sku], quantity=5, expected_date=soon))
        StockLevel.objects.bulk_create(levels)
        Movement.objects.bulk_create(moves)
        Restock.objects.bulk_create(restocks)
    return Seeded(token=token, skus=skus, tenant_id=tenant.pk, locations=("LOC-A", "LOC-B"))


def seed_reference(url: str, tenant_id: int) -> None:
    """The reference design's shared tables, holding the bench tenant's rows (and a neighbour's)."""
    from bench.reference_server import SCHEMA_SQL

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(SCHEMA_SQL)
        for tid in (tenant_id, tenant_id + 100_000):  # a second tenant: the filter must matter
            conn.execute(
                f"""
                INSERT INTO reference.item (tenant_id, sku, name)
                     SELECT %s, sku, name FROM {TENANT}.inventory_item ORDER BY id;
                INSERT INTO reference.stock_level (tenant_id, item_id, location, on_hand)
                     SELECT %s, r.id, l.code, s.on_hand
                       FROM {TENANT}.inventory_stocklevel s
                       JOIN {TENANT}.inventory_item i ON i.id = s.item_id
                       JOIN {TENANT}.inventory_location l ON l.id = s.location_id
                       JOIN reference.item r ON r.tenant_id = %s AND r.sku = i.sku;
                INSERT INTO reference.restock (tenant_id, item_id, quantity, expected_date, status)
                     SELECT %s, r.id, x.quantity, x.expected_date, x.status
                       FROM {TENANT}.inventory_restock x
                       JOIN {TENANT}.inventory_item i ON i.id = x.item_id
                       JOIN reference.item r ON r.tenant_id = %s AND r.sku = i.sku;
                """.replace("%s", str(int(tid)))
            )
        conn.execute("ANALYZE")


def floor_query(sku: str) -> tuple[str, list[object], int]:
    """The SQL stock_snapshot runs (as Django sends it), its params, and the SKU's position."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from inventory.selectors import stock_snapshot

    seen: list[tuple[str, list[object]]] = []

    def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append((sql, list(params or [])))
        return execute(sql, params, many, context)

    with schema_context(TENANT), connection.execute_wrapper(capture):
        stock_snapshot(sku=sku)
    sql, params = next((s, p) for s, p in seen if "inventory_item" in s)
    return sql, params, params.index(sku)


@dataclass(frozen=True)
class WriteFloor:
    """The SQL of one receipt and one transfer as movement_record sends it, for scenario V."""

    receipt: list[tuple[str, Any]]
    transfer: list[tuple[str, Any]]
    key: str  # the idempotency key inside the captured params, replaced per call


def write_floor(locations: tuple[str, str]) -> WriteFloor:
    """Record one receipt and one transfer of the hot SKU through the service, capturing the SQL.

    The captured statements are what `POST /api/v1/movements` runs inside its transaction (the
    idempotency check, the row locks, the two F() updates, the ledger insert); replayed on an
    open connection they are the write path's floor.
    """
    from django.db import connection
    from django_tenants.utils import schema_context

    from inventory.models import Item, Location
    from inventory.services import movement_record

    captured: dict[str, list[tuple[str, list[object]]]] = {}
    key = f"bench-floor-{secrets.token_hex(6)}"
    with schema_context(TENANT):
        item = Item.objects.get(sku=HOT_SKU)
        a, b = (Location.objects.get(code=code) for code in locations)
        seen: list[tuple[str, Any]] = []

        def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            # Named parameters (the movement statement) stay a dict, positional ones a list.
            seen.append((sql, dict(params) if isinstance(params, dict) else list(params or [])))
            return execute(sql, params, many, context)

        for kind, source in (("receipt", None), ("transfer", a)):
            seen.clear()
            with connection.execute_wrapper(capture):
                movement_record(
                    kind=kind,
                    item=item,
                    quantity=1,
                    actor="bench-floor",
                    from_location=source,
                    to_location=b if source else a,
                    idempotency_key=f"{key}-{kind}",
                )
            captured[kind] = list(seen)
    return WriteFloor(receipt=captured["receipt"], transfer=captured["transfer"], key=key)


def provision_many(start: int, count: int) -> float:
    """Provision tenants t00001... through the service (fast path); returns seconds taken."""
    from tenancy.services import tenant_provision

    began = time.perf_counter()
    for n in range(start, start + count):
        tenant_provision(schema_name=f"t{n:05d}", domain=f"t{n:05d}.localhost")
    return time.perf_counter() - began


def provision_worker(args: tuple[str, int, int]) -> float:
    """Entry point for a provisioning process (the orchestrator runs two, one per core)."""
    url, start, count = args
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    return provision_many(start, count)


def random_secret() -> str:
    return secrets.token_urlsafe(48)
