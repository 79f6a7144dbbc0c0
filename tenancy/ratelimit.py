"""Per-credential rate limiting shared by the REST API and the MCP endpoint, and the per-address
limit on failed bearer-token attempts.

Fixed-window counters in the shared cache (Redis), so every web worker counts the same calls; a
counter is a plain integer under the cache's own key (`cache.get` reads it), incremented by a Lua
script that also sets its expiry, so no counter outlives its window.

Two ways to count:

- `ratelimit_hit`: one Redis round trip per decision, exact across processes. For failed bearer
  attempts (rare, and where an exact count matters most).
- `token_rate_hit`, for every authenticated REST and MCP call: decided in memory, with no I/O on
  the request's path. Each process counts its own calls exactly and adds them to the shared
  counter every FLUSH_SECONDS, in one pipeline, from a background thread; the answer brings back
  the total of every process. A decision compares that total plus this process's calls since
  with the limit. So within one process a rate is exact, and across processes a token can exceed
  it by at most what the *other* processes admitted in their last FLUSH_SECONDS. When Redis is
  unreachable each process still enforces the rate on its own calls (and adds them once Redis is
  back): the limiter protects capacity, and an outage of its store neither refuses every call
  nor lifts every limit.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until the window resets; 0 when allowed


def parse_rate(rate: str) -> tuple[int, int]:
    """'120/min' -> (120, 60). Units: s, sec, m, min, h, hour."""
    count, _, unit = rate.partition("/")
    seconds = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}[unit]
    return int(count), seconds


def token_rate_key(prefix: str) -> str:
    """The limiter key of one token: its REST and MCP calls count under the same key."""
    return f"token:{prefix}"


# INCRBY (1, or a batch of calls), and the window's expiry whenever the counter has none (its
# first calls): atomic, one round trip, and no counter can outlive its window.
_HIT_SCRIPT = """
local used = redis.call('INCRBY', KEYS[1], ARGV[2] or 1)
if used == tonumber(ARGV[2] or 1) or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return used
"""
_limiter: list[tuple[Any, Any, Any]] = []  # (cache, Redis client, script): one per process


def _redis() -> tuple[Any, Any, Any]:
    """The process's cache backend, Redis client and registered script.

    Django gives every request context its own cache object, and its Redis backend builds a new
    client object for every command: together a tenth of an MCP call's Python time here. The
    limiter keeps one of each for the process instead (a redis-py client is thread-safe; its
    pool is the process's shared one, ops.redis_pool, reset by redis-py after a fork).
    """
    if not _limiter:
        from django.core.cache import caches

        backend = caches.create_connection("default")
        client = backend._cache.get_client(None, write=True)  # type: ignore[attr-defined]
        _limiter.append((backend, client, client.register_script(_HIT_SCRIPT)))
    return _limiter[0]


def _window(key: str, rate: str) -> tuple[int, int, int, str]:
    """(limit, now, the current window's end, its counter's name) for `key` at `rate`."""
    limit, window = parse_rate(rate)
    now = int(time.time())
    window_start = now - now % window
    return limit, now, window_start + window, f"rl:{key}:{window_start}"


def ratelimit_hit(*, key: str, rate: str) -> RateDecision:
    """Count one call against `key`; say whether it is within `rate`."""
    limit, now, ends, name = _window(key, rate)
    backend, client, script = _redis()
    cache_key = backend.make_and_validate_key(name)
    # EVALSHA, and EVAL once when Redis lacks the script (an empty Redis after a restart).
    used = int(script(keys=[cache_key], args=[ends - now + 1], client=client))
    if used > limit:
        return RateDecision(allowed=False, retry_after=max(1, ends - now))
    return RateDecision(allowed=True, retry_after=0)


# --- Per-token rates: decided in memory, counted in Redis in batches --------------------------

FLUSH_SECONDS = 0.1  # how often a process adds its calls and learns every process's total
IDLE_SECONDS = 10.0  # a window unused this long is forgotten here (its calls are in Redis)


@dataclass
class _Window:
    """One key's current window in this process: the shared total as of the last flush (this
    process's flushed calls included) and the calls admitted here since."""

    cache_key: str
    ends: int  # epoch second at which the window closes
    ttl: int
    used_at: float  # monotonic time of the last call here
    known: int = 0
    pending: int = 0


class _TokenCounters:
    """This process's windows and the thread that keeps them in step with the shared counters:
    every FLUSH_SECONDS while any is in use, it adds the pending calls (one pipeline) and reads
    the totals back, so each process's view is at most about FLUSH_SECONDS old."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._wake = threading.Event()
        self._pid: int | None = None
        self._failing = False

    def hit(self, key: str, rate: str) -> RateDecision:
        limit, now, ends, name = _window(key, rate)
        if self._pid != os.getpid():
            self._start()
        with self._lock:
            entry = self._windows.get(name)
            if entry is None:
                cache_key = _redis()[0].make_and_validate_key(name)
                entry = _Window(cache_key, ends, ends - now + 1, time.monotonic())
                self._windows[name] = entry
            entry.used_at = time.monotonic()
            if entry.known + entry.pending >= limit:
                return RateDecision(allowed=False, retry_after=max(1, entry.ends - now))
            entry.pending += 1
        self._wake.set()
        return RateDecision(allowed=True, retry_after=0)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked child counts (and flushes) for itself
            self._windows = {}
        threading.Thread(target=self._run, name="rate-limit-flush", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=FLUSH_SECONDS if self._windows else None)
            self._wake.clear()
            began = time.monotonic()
            self.flush()
            time.sleep(max(0.0, FLUSH_SECONDS - (time.monotonic() - began)))

    def flush(self) -> None:
        """Add every window's pending calls to its shared counter and read every total back."""
        now, idle_since = int(time.time()), time.monotonic() - IDLE_SECONDS
        with self._lock:
            for name, w in list(self._windows.items()):
                if w.ends <= now or (not w.pending and w.used_at < idle_since):
                    del self._windows[name]
            batch = [(w, w.pending) for w in self._windows.values()]
        if not batch:
            return
        try:
            _, client, script = _redis()
            pipe = client.pipeline(transaction=False)
            for entry, count in batch:
                if count:
                    script(keys=[entry.cache_key], args=[entry.ttl, count], client=pipe)
                else:
                    pipe.get(entry.cache_key)
            totals = pipe.execute()
        except (RedisError, OSError) as exc:
            if not self._failing:
                logger.warning("rate limiter: cannot reach Redis (%s); counting locally", exc)
            self._failing = True
            return  # the pending calls stay pending: added once Redis answers again
        if self._failing:
            logger.warning("rate limiter: Redis reachable again")
        self._failing = False
        with self._lock:
            for (entry, count), total in zip(batch, totals, strict=True):
                entry.pending -= count
                entry.known = max(entry.known, int(total or 0))


_token_counters = _TokenCounters()


def token_rate_hit(*, key: str, rate: str) -> RateDecision:
    """Count one call against `key` (see the module docstring); never does I/O itself."""
    return _token_counters.hit(key, rate)


def _failed_auth_key(address: str) -> str:
    return f"authfail:{address}"


def bearer_attempt_wait(*, address: str) -> int:
    """Seconds `address` must wait before presenting a bearer token again; 0 when it may.

    An address that sent AUTH_FAILURE_RATE unusable tokens in the current window gets 429 for
    every further unusable one until the window ends. A valid token is never refused here:
    many clients can share one address (everything through the tunnel comes from loopback).
    Fails open when Redis is unreachable.
    """
    limit, now, ends, name = _window(_failed_auth_key(address), settings.AUTH_FAILURE_RATE)
    try:
        used = cache.get(name) or 0
    except (RedisError, OSError) as exc:
        logger.warning("auth failure limiter unavailable (%s); allowed", type(exc).__name__)
        return 0
    return max(1, ends - now) if int(used) >= limit else 0


def bearer_attempt_failed(*, address: str) -> None:
    """Count one unusable bearer token (unknown, revoked, expired, wrong tenant) from `address`."""
    try:
        ratelimit_hit(key=_failed_auth_key(address), rate=settings.AUTH_FAILURE_RATE)
    except (RedisError, OSError) as exc:
        logger.warning("auth failure limiter unavailable (%s)", type(exc).__name__)
