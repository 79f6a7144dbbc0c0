"""Per-credential rate limiting shared by the REST API and the MCP endpoint.

A fixed-window counter in the shared cache (Redis), so every web worker counts the same calls.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until the window resets; 0 when allowed


def parse_rate(rate: str) -> tuple[int, int]:
    """'120/min' -> (120, 60). Units: s, sec, m, min, h, hour."""
    count, _, unit = rate.partition("/")
    seconds = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}[unit]
    return int(count), seconds


def ratelimit_hit(*, key: str, rate: str) -> RateDecision:
    """Count one call against `key`; say whether it is within `rate`."""
    limit, window = parse_rate(rate)
    now = int(time.time())
    window_start = now - now % window
    cache_key = f"rl:{key}:{window_start}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        used = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        used = 1
    if used > limit:
        return RateDecision(allowed=False, retry_after=max(1, window_start + window - now))
    return RateDecision(allowed=True, retry_after=0)
