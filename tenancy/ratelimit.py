"""Per-credential rate limiting shared by the REST API and the MCP endpoint, and the per-address
limit on failed bearer-token attempts.

A fixed-window counter in the shared cache (Redis), so every web worker counts the same calls.
One decision is one Redis round trip: a Lua script increments the window's counter and sets its
expiry together (the counter is a plain integer under the cache's own key, so `cache.get` reads it).
"""

import logging
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


# INCR, and the window's expiry whenever the counter has none (its first call): atomic, one
# round trip, and no counter can outlive its window.
_HIT_SCRIPT = """
local used = redis.call('INCR', KEYS[1])
if used == 1 or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return used
"""
_script: list[Any] = []


def _hit(client: Any, key: str, ttl: int) -> int:
    """Run the script on `client` (redis-py sends EVALSHA, and EVAL once when Redis lacks it)."""
    if not _script:
        _script.append(client.register_script(_HIT_SCRIPT))
    return int(_script[0](keys=[key], args=[ttl], client=client))


def ratelimit_hit(*, key: str, rate: str) -> RateDecision:
    """Count one call against `key`; say whether it is within `rate`."""
    limit, window = parse_rate(rate)
    now = int(time.time())
    window_start = now - now % window
    cache_key = cache.make_and_validate_key(f"rl:{key}:{window_start}")
    client = cache._cache.get_client(cache_key, write=True)  # type: ignore[attr-defined]
    used = _hit(client, cache_key, window + 1)
    if used > limit:
        return RateDecision(allowed=False, retry_after=max(1, window_start + window - now))
    return RateDecision(allowed=True, retry_after=0)


def _failed_auth_key(address: str) -> str:
    return f"authfail:{address}"


def bearer_attempt_wait(*, address: str) -> int:
    """Seconds `address` must wait before presenting a bearer token again; 0 when it may.

    An address that sent AUTH_FAILURE_RATE unusable tokens in the current window gets 429 for
    every further unusable one until the window ends. A valid token is never refused here:
    many clients can share one address (everything through the tunnel comes from loopback).
    Fails open when Redis is unreachable, like the per-token limiter.
    """
    limit, window = parse_rate(settings.AUTH_FAILURE_RATE)
    now = int(time.time())
    window_start = now - now % window
    try:
        used = cache.get(f"rl:{_failed_auth_key(address)}:{window_start}") or 0
    except (RedisError, OSError) as exc:
        logger.warning("auth failure limiter unavailable (%s); allowed", type(exc).__name__)
        return 0
    return max(1, window_start + window - now) if int(used) >= limit else 0


def bearer_attempt_failed(*, address: str) -> None:
    """Count one unusable bearer token (unknown, revoked, expired, wrong tenant) from `address`."""
    try:
        ratelimit_hit(key=_failed_auth_key(address), rate=settings.AUTH_FAILURE_RATE)
    except (RedisError, OSError) as exc:
        logger.warning("auth failure limiter unavailable (%s)", type(exc).__name__)
