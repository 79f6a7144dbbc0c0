"""Reconnect delays: exponential from a base, capped, with full jitter, reset after stability."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Full-jitter exponential backoff (AWS "Exponential Backoff and Jitter").

    The n-th consecutive failure waits uniform(0, min(cap, base * 2**n)); failures that need an
    operator (bad credentials, unknown host key) wait at least ``floor`` so they never hot-loop.
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

    def next_delay(self, *, operator_needed: bool = False) -> float:
        """Return the delay before the next attempt and count this failure."""
        delay = self.rng.uniform(0.0, self.ceiling())
        if operator_needed:
            delay = max(delay, self.floor)
        self.attempt += 1
        return round(delay, 3)

    def reset(self) -> None:
        """Forget past failures (called after a connection stayed up long enough)."""
        self.attempt = 0
