"""Token decisions that need no query: malformed tokens never reach the database, the token
states and scopes, and the lifetimes `issue_token --expires-in` accepts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tenancy.models import ApiToken, Scope
from tenancy.selectors import token_authenticate
from tenancy.services import parse_duration

SECRET = "A" * 43


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "inv_",
        f"inv_0123456789ab{SECRET}",  # no separator
        f"inv_0123456789AB_{SECRET}",  # the prefix is lower-case hex
        f"inv_0123456789a_{SECRET}",  # 11 characters of prefix
        "inv_0123456789ab_short",  # a secret under 20 characters
        f"inv_0123456789ab_{SECRET} ",
        f"tok_0123456789ab_{SECRET}",
        f"inv_0123456789ab_{SECRET}'; DROP TABLE x; --",
    ],
)
def test_a_malformed_token_is_refused_before_any_query(raw: str) -> None:
    # The fast tier blocks the database: a lookup here would fail the test, not return None.
    assert token_authenticate(raw=raw) is None


def test_usable_until_revoked_or_expired() -> None:
    now = timezone.now()
    assert ApiToken(scopes=["mcp"]).is_usable
    assert ApiToken(scopes=["mcp"], expires_at=now + timedelta(minutes=1)).is_usable
    assert not ApiToken(scopes=["mcp"], expires_at=now - timedelta(seconds=1)).is_usable
    assert not ApiToken(scopes=["mcp"], revoked_at=now).is_usable


def test_scopes_are_matched_exactly() -> None:
    token = ApiToken(scopes=[Scope.STOCK_READ, Scope.MCP])
    assert token.has_scope("mcp") and token.has_scope("stock:read")
    assert not token.has_scope("stock:write") and not token.has_scope("stock")


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("30M", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["", "d", "0d", "-1d", "1.5h", "10", "10w", "1 d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)
