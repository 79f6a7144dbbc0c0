"""The PostgreSQL DatabaseWrapper under django-tenants' one: pool health checks, a search_path
reset on check-in, and every checked-out connection watched by ops.deadline."""

import threading
from collections.abc import Callable
from typing import Any

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from ops import deadline


def reset_connection(conn: Any) -> None:
    """On check-in: forget the last tenant's schema, so an idle pooled connection holds none."""
    conn.execute("RESET search_path")


def _check_and_sweep(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """The checkout health check; when it finds a broken connection, every idle one is checked
    too, in the background.

    After a PostgreSQL restart each idle connection is broken, and psycopg_pool finds that out
    one checkout at a time, sleeping with backoff between two failed checks: a request met two
    or three dead connections, ran out of its pool timeout and answered 503, for as many
    requests as the pool held connections. One sweep (`ConnectionPool.check`) clears them all.
    """

    def checked(conn: Any) -> None:
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
        """Django's pool, built with a health check on checkout and a reset on check-in.

        Django passes `check` itself (from CONN_HEALTH_CHECKS), so OPTIONS["pool"] cannot carry
        one; both callbacks are bounded by ops.deadline, as a frozen server would
        otherwise hold them for ever.
        """
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not options:
            return None
        pools: dict[str, ConnectionPool] = self._connection_pools  # type: ignore[attr-defined]
        if self.alias not in pools:
            kwargs = {**self.get_connection_params(), "autocommit": True}
            pool = ConnectionPool(
                kwargs=kwargs,
                open=False,
                configure=self._configure_connection,  # type: ignore[attr-defined]
                check=_check_and_sweep(deadline.bounded(ConnectionPool.check_connection)),
                reset=deadline.bounded(reset_connection),
                **({} if options is True else options),
            )
            pools.setdefault(self.alias, pool)
        return pools[self.alias]

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        conn = super().get_new_connection(conn_params)
        self.checkouts += 1
        deadline.watch(self, conn)
        return conn
