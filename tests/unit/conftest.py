"""The fast tier's rules, enforced for every test under tests/unit/: no database, no
subprocess, no sleep. A test that breaks one fails at once and says which rule it broke, so the
tier stays fast as it grows (`make test-fast`, docs/testing.md)."""

import asyncio
import subprocess
import time
from collections.abc import Iterator

import pytest


def _refuse(rule: str):  # noqa: ANN202
    def refused(*args: object, **kwargs: object) -> None:
        pytest.fail(f"the fast tier has {rule}: move this test out of tests/unit/")

    return refused


@pytest.fixture(autouse=True)
def _fast_tier_rules(
    monkeypatch: pytest.MonkeyPatch, django_db_blocker: pytest.FixtureRequest
) -> Iterator[None]:
    real_sleep = asyncio.sleep

    async def no_async_sleep(delay: float, result: object = None) -> object:
        if delay > 0:
            _refuse("no sleeps")()
        return await real_sleep(0, result)

    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("no subprocesses"))
    monkeypatch.setattr(time, "sleep", _refuse("no sleeps"))
    monkeypatch.setattr(asyncio, "sleep", no_async_sleep)
    with django_db_blocker.block():  # type: ignore[attr-defined]
        yield
