"""Reconnect delays: exponential from a base, capped, with full jitter, reset after a good connection."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Full-jitter exponential backoff (AWS "Exponential Backoff and Jitter").

    The n-th consecutive failure waits uniform(0, min(cap, base * 2**n)); failures that need an
    operator (bad credentials, unknown host key) wait at least ``floor`` so they never hot-loop.

    After a connection that proved itself (carried traffic, passed its probe) is lost, the series
    starts again and its ceiling is also held to max(2 * base, outage so far / 2): a flapping
    edge that is back in a few seconds is reconnected within about two seconds of its return,
    while a long outage still backs off to the cap (the outage / 2 term reaches it).
    """

    base: float = 1.0
    cap: float = 30.0
    floor: float = 30.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, attempt: int | None = None) -> float:
        """Upper bound of the delay for the given (default: current) attempt number."""
        n = self.attempt if attempt is None else attempt
        return min(self.cap, self.base * (2 ** min(n, 32)))

    def next_delay(self, *, operator_needed: bool = False, outage: float | None = None) -> float:
        """Return the delay before the next attempt and count this failure.

        ``outage``: seconds since a proven connection was lost (None when there was none).
        """
        ceiling = self.ceiling()
        if outage is not None:
            ceiling = min(ceiling, max(2 * self.base, outage / 2))
        delay = self.rng.uniform(0.0, ceiling)
        if operator_needed:
            delay = max(delay, self.floor)
        self.attempt += 1
        return round(delay, 3)

    def reset(self) -> None:
        """Forget past failures (called after a connection stayed up long enough)."""
        self.attempt = 0
