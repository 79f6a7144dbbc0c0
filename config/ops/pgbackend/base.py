"""The PostgreSQL DatabaseWrapper under django-tenants' one: pool health checks, a search_path
reset on check-in, and every checked-out connection watched by config.ops.deadline."""

from typing import Any

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from config.ops import deadline


def reset_connection(conn: Any) -> None:
    """On check-in: forget the last tenant's schema, so an idle pooled connection holds none."""
    conn.execute("RESET search_path")


class DatabaseWrapper(base.DatabaseWrapper):
    checkouts = 0  # counts this wrapper's connects, so a deadline cuts only its own checkout

    @property
    def pool(self) -> ConnectionPool | None:
        """Django's pool, built with a health check on checkout and a reset on check-in.

        Django passes `check` itself (from CONN_HEALTH_CHECKS), so OPTIONS["pool"] cannot carry
        one; both callbacks are bounded by config.ops.deadline, as a frozen server would
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
                check=deadline.bounded(ConnectionPool.check_connection),
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
