"""Data the tests set up through the services (tokens, stock) or hold (a table lock)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


def unique_name(prefix: str) -> str:
    """A name no other test uses (tunnels, tokens, schemas share one database and Redis)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def issue(tenant: Any, *scopes: str, name: str | None = None) -> str:
    """A fresh raw token for `tenant` (default scope: mcp)."""
    from tenancy.services import token_issue

    label = name or f"t-{uuid.uuid4().hex[:12]}"
    return token_issue(tenant=tenant, name=label, scopes=list(scopes or ["mcp"])).raw


@dataclass
class Stock:
    sku: str
    quantity: int
    restock_date: date


def stock_item(tenant: Any, sku: str, *, quantity: int = 7, reorder_point: int = 0) -> Stock:
    """An item in `tenant` with `quantity` on hand over two locations and one open restock."""
    from django_tenants.utils import schema_context

    from inventory import services

    with schema_context(tenant.schema_name):
        item = services.item_create(sku=sku, name=f"Item {sku}", reorder_point=reorder_point)
        a = services.location_create(code=f"A-{sku}"[:32], name="A")
        b = services.location_create(code=f"B-{sku}"[:32], name="B")
        first = quantity // 2
        for location, qty in ((a, first), (b, quantity - first)):
            if qty:
                services.movement_record(
                    kind="receipt", item=item, quantity=qty, actor="test", to_location=location
                )
        when = date.today() + timedelta(days=5)
        services.restock_create(item=item, quantity=10, expected_date=when)
    return Stock(sku=sku, quantity=quantity, restock_date=when)


def stock_on_hand(
    schema: str, sku: str, *, on_hand: int, reorder_point: int = 0, active: bool = True
) -> None:
    """An item with `on_hand` units at one location, in `schema`, created through the services."""
    from django_tenants.utils import schema_context

    from inventory import services

    with schema_context(schema):
        item = services.item_create(
            sku=sku, name=f"Item {sku}", reorder_point=reorder_point, active=active
        )
        if on_hand:
            location = services.location_create(code=f"L-{sku}"[:32], name="Shelf")
            services.movement_record(
                kind="receipt", item=item, quantity=on_hand, actor="test", to_location=location
            )


@contextlib.contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Hold ACCESS EXCLUSIVE on `table` from another session, so any read of it blocks."""
    import psycopg

    from ops.dbconn import psycopg_conninfo

    with psycopg.connect(**psycopg_conninfo()) as conn:
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()
