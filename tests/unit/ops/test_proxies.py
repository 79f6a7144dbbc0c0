"""Whose forwarded headers are believed: TRUSTED_PROXIES only, and never a header downstream."""

import pytest

from ops.proxies import forwarded_allow_ips, without_forwarded_headers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),  # unset: trust nobody (uvicorn's own default would trust loopback)
        ("", ""),
        ("10.0.0.1", "10.0.0.1"),
        (" 10.0.0.1 , ,192.168.0.0/16 ", "10.0.0.1,192.168.0.0/16"),
    ],
)
def test_forwarded_allow_ips(value: str | None, expected: str) -> None:
    environ = {} if value is None else {"TRUSTED_PROXIES": value}
    assert forwarded_allow_ips(environ) == expected


def test_forwarded_headers_are_dropped_and_the_rest_kept() -> None:
    scope = {
        "type": "http",
        "headers": [
            (b"host", b"alpha.localhost"),
            (b"X-Forwarded-For", b"6.6.6.6"),
            (b"forwarded", b"for=6.6.6.6;proto=https"),
            (b"x-forwarded-proto", b"https"),
            (b"x-forwarded-host", b"admin.example"),
            (b"x-real-ip", b"6.6.6.6"),
            (b"authorization", b"Bearer t"),
        ],
    }
    cleaned = without_forwarded_headers(scope)
    assert cleaned["headers"] == [(b"host", b"alpha.localhost"), (b"authorization", b"Bearer t")]
    assert len(scope["headers"]) == 7  # the caller's scope is not changed


def test_a_scope_without_forwarded_headers_is_returned_as_is() -> None:
    scope = {"type": "http", "headers": [(b"host", b"x")]}
    assert without_forwarded_headers(scope) is scope
