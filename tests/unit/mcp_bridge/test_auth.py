"""Stale-if-error: what `authenticate` decides when the database answers, refuses, or is gone
(the lookup itself is replaced; its queries are the integration tests' business)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from django.db import OperationalError

from mcp_bridge import auth
from mcp_bridge.auth import _StaleCache, authenticate
from mcp_bridge.conf import McpSettings
from mcp_bridge.principal import Principal
from tests.unit.mcp_bridge.examples import CONF, PRINCIPAL


@pytest.fixture
def lookup(monkeypatch: pytest.MonkeyPatch) -> Callable[[object], None]:
    """Set what the token lookup does next: return a principal or None, or raise."""
    monkeypatch.setattr(auth, "_stale", _StaleCache())
    monkeypatch.setattr(auth, "close_old_connections", lambda: None)

    def set_outcome(outcome: object) -> None:
        def fake(raw_token: str, host: str, conf: McpSettings) -> Principal | None:
            if isinstance(outcome, Exception):
                raise outcome
            return outcome  # type: ignore[return-value]

        monkeypatch.setattr(auth, "_lookup", fake)

    return set_outcome


def test_stale_cache_expires_and_drops() -> None:
    cache = _StaleCache(max_entries=2)
    cache.put("k", PRINCIPAL)
    assert cache.get("k", max_age=60) == PRINCIPAL
    assert cache.get("k", max_age=0) is None
    cache.drop("k")
    assert cache.get("k", max_age=60) is None
    for key in ("a", "b", "c"):
        cache.put(key, PRINCIPAL)
    assert cache.get("a", max_age=60) is None  # bounded: the oldest entry went first
    assert cache.get("c", max_age=60) == PRINCIPAL


def test_a_database_answer_is_used_as_is(lookup: Callable[[object], None]) -> None:
    lookup(PRINCIPAL)
    assert authenticate(raw_token="t", host="alpha.localhost", conf=CONF).principal == PRINCIPAL
    lookup(None)
    result = authenticate(raw_token="t", host="alpha.localhost", conf=CONF)
    assert result.principal is None and not result.unavailable


def test_an_outage_reuses_a_recent_lookup_marked_stale(lookup: Callable[[object], None]) -> None:
    lookup(PRINCIPAL)
    authenticate(raw_token="t", host="Alpha.Localhost", conf=CONF)
    lookup(OperationalError("connection refused"))
    result = authenticate(raw_token="t", host="alpha.localhost", conf=CONF)
    assert result.principal == replace(PRINCIPAL, stale=True)


def test_an_outage_is_unavailable_for_an_unseen_token_or_host(
    lookup: Callable[[object], None],
) -> None:
    lookup(PRINCIPAL)
    authenticate(raw_token="t", host="alpha.localhost", conf=CONF)
    lookup(OperationalError("connection refused"))
    for raw, host in (("other", "alpha.localhost"), ("t", "beta.localhost")):
        result = authenticate(raw_token=raw, host=host, conf=CONF)
        assert result.principal is None and result.unavailable


def test_a_refusal_forgets_the_earlier_success(lookup: Callable[[object], None]) -> None:
    lookup(PRINCIPAL)
    authenticate(raw_token="t", host="alpha.localhost", conf=CONF)
    lookup(None)  # revoked
    authenticate(raw_token="t", host="alpha.localhost", conf=CONF)
    lookup(OperationalError("connection refused"))
    assert authenticate(raw_token="t", host="alpha.localhost", conf=CONF).unavailable


def test_no_reuse_when_stale_seconds_is_zero(lookup: Callable[[object], None]) -> None:
    strict = replace(CONF, auth_stale_seconds=0)
    lookup(PRINCIPAL)
    authenticate(raw_token="t", host="alpha.localhost", conf=strict)
    lookup(OperationalError("connection refused"))
    assert authenticate(raw_token="t", host="alpha.localhost", conf=strict).unavailable
