"""The cache-invalidation listener stops trusting its caches when Redis goes silent: a frozen
link (no reset, no error, no byte) must not leave a process serving revoked tokens from memory."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings

from ops import invalidation
from tests.support import wait_until
from tests.support.proxies import TcpProxy


def test_a_frozen_redis_turns_the_caches_off_and_a_thawed_one_back_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis_url = urlsplit(str(settings.CACHES["default"]["LOCATION"]))
    proxy = TcpProxy((redis_url.hostname or "127.0.0.1", redis_url.port or 6379))
    proxied = redis_url._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
    monkeypatch.setattr(invalidation, "_redis_url", lambda: proxied)
    generation = invalidation._Generation()  # this test's own listener, not the process's

    before = wait_until(lambda: generation.current(), 30, "listening through the proxy")
    proxy.freeze()
    wait_until(lambda: generation.current() is None, 30, "caches off while Redis is silent")
    assert generation.current() is None  # no cache is used while the link is silent
    proxy.thaw()
    after = wait_until(lambda: generation.current(), 30, "listening again after the thaw")
    # A new generation: nothing cached before the gap is trusted after it.
    assert after > before
