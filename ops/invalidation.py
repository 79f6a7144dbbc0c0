"""Process-local caches of credentials and tenant domains, emptied in every process when one changes.

The hot paths (the /mcp gate, the REST API, django-tenants' host lookup) would otherwise ask
PostgreSQL who a token or a Host is on every call. `LocalCache` answers from memory instead,
and stays correct through one rule: an entry is used only while this process is *listening*
for changes and nothing has changed since the entry was filled.

- A change to a token, a tenant or a domain (tenancy.signals) calls `changed()` once its
  transaction commits: Redis PUBLISHes on CHANNEL, and every process's listener thread (one per
  process, started on first use) bumps the process's generation. Every entry filled under an
  older generation is dead, so a revoked token is refused by every worker within the delivery
  time of one pub/sub message (a millisecond on a LAN).
- While the listener is not subscribed (Redis unreachable, or not yet connected) there is no
  generation at all and every lookup goes to the database: a cache that cannot hear
  revocations is not used. Each (re)subscription starts a new generation, so nothing filled
  before a gap in listening survives it.
- A lookup that raced with a change cannot store a stale answer: the generation is read before
  the database is asked, and the answer is stored under that generation, dead on arrival if a
  change came in between.
- Entries also expire after `max_age` seconds whatever happens, a backstop for a change made
  outside the ORM's signals (raw SQL, `QuerySet.update`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

CHANNEL = "inventory:auth-changed"
_HEALTH_CHECK_SECONDS = 1.0  # a silent Redis is noticed within about 2-3 times this
_SOCKET_TIMEOUT_SECONDS = 2.0
_RETRY_SECONDS = 0.5

V = TypeVar("V")


class _Generation:
    """This process's generation counter and the thread that advances it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0
        self._listening = False
        self._pid: int | None = None

    def current(self) -> int | None:
        """The generation, or None while this process cannot hear changes."""
        if self._pid != os.getpid():
            self._start()
        return self._value if self._listening else None

    def bump(self, *, listening: bool) -> None:
        with self._lock:
            self._value += 1
            self._listening = listening

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked child listens for itself
            self._listening = False
            self._value += 1
        threading.Thread(target=self._listen, name="auth-invalidation", daemon=True).start()

    def _listen(self) -> None:
        while True:
            try:
                self._subscribe_and_wait()
            except Exception as exc:  # noqa: BLE001 - any failure: stop trusting, then retry
                if self._listening:
                    logger.warning("auth cache: lost Redis pub/sub (%s)", type(exc).__name__)
            self.bump(listening=False)
            time.sleep(_RETRY_SECONDS)

    def _subscribe_and_wait(self) -> None:
        import redis

        client = redis.Redis.from_url(
            _redis_url(),
            socket_timeout=_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=_SOCKET_TIMEOUT_SECONDS,
        )
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(CHANNEL)
            heard = time.monotonic()
            while True:
                message = pubsub.get_message(timeout=_HEALTH_CHECK_SECONDS)
                now = time.monotonic()
                if message is not None:
                    heard = now  # a pong proves the link as well as a message does
                    if message["type"] in ("subscribe", "message"):
                        self.bump(listening=True)  # a new generation: nothing from before
                    continue
                # A PING whose PONG never comes (a frozen or partitioned Redis: no reset, so
                # the socket itself may stay quiet for minutes) ends this subscription.
                if now - heard > 2 * _HEALTH_CHECK_SECONDS:
                    raise ConnectionError("Redis pub/sub: no answer to PING")
                pubsub.ping()
        finally:
            pubsub.close()
            client.close()


_generation = _Generation()


def generation() -> int | None:
    """The current generation (None: caches must not be used right now)."""
    return _generation.current()


def forget_here() -> None:
    """Start a new generation in this process only (a change not committed yet: this process's
    other threads must not keep serving the old row; others learn of it from `changed()`)."""
    _generation.bump(listening=_generation.current() is not None)


def changed() -> None:
    """Tell every process that a credential, tenant or domain changed (call after commit).

    This process forgets its entries at once, whatever Redis says; the others when the message
    arrives. A failure to publish is logged as an error: other processes then rely on their
    entries' max_age (and on their own listener noticing the same Redis outage).
    """
    forget_here()
    try:
        import redis

        from ops.redis_pool import SharedConnectionPool

        client = redis.Redis(connection_pool=SharedConnectionPool.from_url(_redis_url()))
        client.publish(CHANNEL, b"1")
    except Exception as exc:  # noqa: BLE001 - the change itself is committed; say it loudly
        logger.error("auth cache: could not publish a change (%s)", type(exc).__name__)


def _redis_url() -> str:
    from django.conf import settings

    return str(settings.CACHES["default"]["LOCATION"])


class LocalCache(Generic[V]):
    """A bounded, thread-safe map whose entries live for one generation and `max_age` seconds."""

    def __init__(self, *, max_age: float, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[V, int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_age = max_age
        self.max_entries = max_entries

    def peek(self, key: str) -> tuple[bool, V | None]:
        """(True, value) when `key` has a live entry; (False, None) when only a load could say."""
        gen = generation()
        if gen is None or self.max_age <= 0:
            return False, None
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[1] == gen and time.monotonic() - entry[2] < self.max_age:
            return True, entry[0]
        return False, None

    def get_or_load(self, key: str, load: Callable[[], V], *, keep: Callable[[V], bool]) -> V:
        """The cached value for `key`, or `load()` (stored when `keep(value)` says so)."""
        gen = generation()
        if gen is None or self.max_age <= 0:
            return load()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[1] == gen and now - entry[2] < self.max_age:
            return entry[0]
        value = load()
        if keep(value):
            with self._lock:
                self._entries[key] = (value, gen, now)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
