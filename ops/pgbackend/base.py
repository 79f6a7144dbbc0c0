"""The PostgreSQL DatabaseWrapper under django-tenants' one: a pool health check that costs no
round trip while the connection is quiet, pooled connections recycled before their caches outgrow
a budget, and every checked-out connection watched by ops.deadline.

A checked-out connection never runs a statement in the schema of its previous user: Django
forgets the search_path it set when it returns a connection (django-tenants' `close()`), so the
first cursor of every checkout issues `SET search_path` for the schema in force before anything
else runs. That is why a connection coming back is not reset with a round trip of its own.
"""

import logging
import random
import select
import threading
from collections.abc import Callable
from typing import Any

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from ops import deadline

logger = logging.getLogger(__name__)

# A connection's schema budget is drawn once, between (1 - SCHEMA_JITTER) x and 1 x the
# setting: connections that started together under round-robin traffic reach their budgets
# at different times, so they are replaced one by one instead of all at once (no cliff).
SCHEMA_JITTER = 0.25


def served_schema(conn: Any, schema: str | None) -> None:
    """Remember that this pooled connection ran statements in `schema` (public not counted).

    PostgreSQL caches catalog entries and plans of every relation a backend touches and never
    gives them back (~86 KB per tenant schema here): the set of tenant schemas a connection
    served is what its memory grows with.
    """
    if schema and schema != "public":
        served = conn.__dict__.setdefault("_tenant_schemas", set())
        served.add(schema)


def schema_budget(budget: int) -> int:
    """One connection's own budget: the setting minus up to SCHEMA_JITTER of it."""
    return budget - random.randint(0, int(budget * SCHEMA_JITTER))  # noqa: S311 - not a secret


def expire_if_over_budget(conn: Any, *, max_schemas: int) -> None:
    """On check-in: a connection past its schema budget is marked expired, which psycopg_pool
    answers by closing it as it comes back and opening a fresh one in its background worker (the
    same path as its own `max_lifetime`, so no request waits for the reconnect)."""
    if max_schemas <= 0:
        return
    served = conn.__dict__.get("_tenant_schemas", ())
    budget = conn.__dict__.setdefault("_schema_budget", schema_budget(max_schemas))
    if len(served) > budget:
        logger.info(
            "recycling database connection (backend %s): served %d tenant schemas, budget %d",
            conn.info.backend_pid,
            len(served),
            budget,
        )
        conn._expire_at = 0.0  # psycopg_pool's own expiry mark, checked after the reset


def quiet(conn: Any) -> bool:
    """Whether an idle connection is open and its socket has nothing to read.

    An idle connection is sent nothing unless it is going away: a server that shuts down or
    restarts, or terminates the backend, sends an error and closes the socket, which then
    reads as ready. Asking the kernel costs no round trip; only a connection that is not quiet
    gets the real check (a statement), which raises when it is broken.
    """
    if conn.closed or conn.pgconn.status != 0:  # 0: CONNECTION_OK
        return False
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _check_and_sweep(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """The checkout health check (a statement only for a connection that is not `quiet`); when
    it finds a broken connection, every idle one is checked too, in the background.

    After a PostgreSQL restart each idle connection is broken, and psycopg_pool finds that out
    one checkout at a time, sleeping with backoff between two failed checks: a request met two
    or three dead connections, ran out of its pool timeout and answered 503, for as many
    requests as the pool held connections. One sweep (`ConnectionPool.check`) clears them all.
    """

    def checked(conn: Any) -> None:
        if quiet(conn):
            return
        try:
            check(conn)
        except Exception:
            pool = getattr(conn, "_pool", None)
            if pool is not None and _sweeping.acquire(blocking=False):
                threading.Thread(target=_sweep, args=(pool,), daemon=True).start()
            raise

    return checked


_sweeping = threading.Lock()  # one sweep at a time per process


def _sweep(pool: ConnectionPool) -> None:
    try:
        pool.check()
    except Exception:  # noqa: S110 - a sweep that fails leaves the per-checkout check in charge
        pass
    finally:
        _sweeping.release()


class DatabaseWrapper(base.DatabaseWrapper):
    checkouts = 0  # counts this wrapper's connects, so a deadline cuts only its own checkout

    @property
    def pool(self) -> ConnectionPool | None:
        """Django's pool, built with a health check on checkout.

        Django passes `check` itself (from CONN_HEALTH_CHECKS), so OPTIONS["pool"] cannot carry
        one; the check is bounded by ops.deadline, as a frozen server would otherwise hold it
        for ever. No `reset` callback: psycopg_pool then takes a connection back on the
        returning thread (rolling back a transaction left open), where a reset would cost a
        round trip on a pool worker.
        """
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not options:
            return None
        pools: dict[str, ConnectionPool] = self._connection_pools  # type: ignore[attr-defined]
        if self.alias not in pools:
            kwargs = {**self.get_connection_params(), "autocommit": True}
            options = {} if options is True else dict(options)
            options.pop("max_schemas", None)  # ours, applied at check-in (_close)
            pool = ConnectionPool(
                kwargs=kwargs,
                open=False,
                configure=self._configure_connection,  # type: ignore[attr-defined]
                check=_check_and_sweep(deadline.bounded(ConnectionPool.check_connection)),
                **options,
            )
            pools.setdefault(self.alias, pool)
        return pools[self.alias]

    def _cursor(self, name: str | None = None) -> Any:
        """Every cursor: note the schema django-tenants is about to put on the search_path
        (its wrapper subclasses this one and sets `schema_name` before asking for a cursor)."""
        cursor = super()._cursor(name) if name else super()._cursor()  # type: ignore[misc]
        if self.connection is not None and self.alias in self._connection_pools:  # type: ignore[attr-defined]
            served_schema(self.connection, getattr(self, "schema_name", None))
        return cursor

    def _close(self) -> None:
        """Return the connection (to the pool when there is one), expired if over its budget."""
        if self.connection is not None and self.alias in self._connection_pools:  # type: ignore[attr-defined]
            options = self.settings_dict["OPTIONS"].get("pool")
            budget = options.get("max_schemas", 0) if isinstance(options, dict) else 0
            expire_if_over_budget(self.connection, max_schemas=budget)
        super()._close()  # type: ignore[misc]

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        conn = super().get_new_connection(conn_params)
        self.checkouts += 1
        deadline.watch(self, conn)
        return conn
