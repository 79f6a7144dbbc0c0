"""The limiter's rate strings."""

import pytest

from tenancy.ratelimit import parse_rate


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("120/min", (120, 60)), ("5/s", (5, 1)), ("5/sec", (5, 1)), ("1/m", (1, 60))]
    + [("10/h", (10, 3600)), ("100000/hour", (100000, 3600))],
)
def test_rates(rate: str, parsed: tuple[int, int]) -> None:
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["120", "120/day", "x/min", "/min"])
def test_bad_rates_raise(rate: str) -> None:
    with pytest.raises((KeyError, ValueError)):
        parse_rate(rate)
