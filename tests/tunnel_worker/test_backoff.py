"""Backoff after a proven connection: the series restarts and its ceiling follows the outage."""

from __future__ import annotations

import random

from tunnel_worker.backoff import Backoff


class _Max(random.Random):
    """Always the top of the jitter range, to see the ceilings."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_ceiling_is_held_to_half_the_outage_after_a_proven_connection():
    backoff = Backoff(base=1.0, cap=30.0, floor=30.0, rng=_Max())
    plain = [backoff.next_delay() for _ in range(6)]
    assert plain == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0]

    backoff.reset()
    outages = [0.1, 1.0, 3.0, 7.0, 20.0, 100.0]
    shortened = [backoff.next_delay(outage=o) for o in outages]
    # min(exponential, max(2 * base, outage / 2)): a brief outage never waits more than 2 s ...
    assert shortened == [1.0, 2.0, 2.0, 3.5, 10.0, 30.0]
    # ... and operator faults keep their floor whatever the outage.
    assert backoff.next_delay(operator_needed=True, outage=0.1) == 30.0
