"""One Redis connection pool per process for the cache (and so for the shared rate limiter).

Django keeps a cache instance per async context, and its Redis backend gives every instance a
pool of its own: under ASGI each request built a new pool and opened (then dropped) a new Redis
connection. Measured with `make bench`: one connection per REST or MCP call, about a fifth of the
server's time on /mcp. Named in CACHES["default"]["OPTIONS"]["pool_class"].
"""

import threading
from typing import Any

from redis import ConnectionPool


class SharedConnectionPool(ConnectionPool):
    """`from_url` returns the process's pool for that URL and options (redis-py resets it after fork)."""

    _shared_pools: dict[tuple[str, str], ConnectionPool] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Any:
        key = (url, repr(sorted(kwargs.items())))
        with cls._shared_lock:
            pool = cls._shared_pools.get(key)
            if pool is None:
                pool = cls._shared_pools[key] = super().from_url(url, **kwargs)
        return pool
