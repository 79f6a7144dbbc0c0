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


def test_ceilings_double_from_the_base_up_to_the_cap():
    backoff = Backoff(base=0.5, cap=3.0, floor=10.0, rng=_Max())
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.attempt == 5
    assert backoff.ceiling(attempt=1000) == 3.0  # a long outage does not overflow


def test_delays_are_jittered_within_zero_and_the_ceiling():
    backoff = Backoff(base=1.0, cap=8.0, floor=30.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(200)]
    ceilings = [min(8.0, 2.0**n) for n in range(200)]
    assert all(0.0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays[10:])) > 100  # jittered, not one fixed value at the cap


def test_operator_faults_wait_at_least_the_floor():
    backoff = Backoff(base=1.0, cap=30.0, floor=45.0, rng=random.Random(1))
    assert all(backoff.next_delay(operator_needed=True) >= 45.0 for _ in range(10))


def test_reset_starts_the_series_again():
    backoff = Backoff(base=1.0, cap=30.0, rng=_Max())
    for _ in range(4):
        backoff.next_delay()
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next_delay() == 1.0
