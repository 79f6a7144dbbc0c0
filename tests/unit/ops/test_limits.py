"""Body caps of the outermost ASGI layer: the longest prefix decides, a declared length over
the cap is refused unread, and a streamed body is cut when it crosses the cap."""

from __future__ import annotations

import pytest

from ops.conf import ops_settings
from ops.limits import RequestLimits
from tests.support.asgi import request

CONF = ops_settings(MAX_BODY_BYTES=100, BODY_CAPS=(("/api/", 50), ("/api/v1/imports", 1000)))


def limited(**kw: object):  # noqa: ANN201
    return request(lambda app: RequestLimits(app, CONF), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "cap"),
    [("/mcp", 100), ("/api/v1/items", 50), ("/api/v1/imports/stock", 1000), ("/apix", 100)],
)
def test_the_longest_prefix_gives_the_cap(path: str, cap: int) -> None:
    assert RequestLimits(lambda *a: None, CONF).cap_for(path) == cap  # type: ignore[arg-type]


@pytest.mark.parametrize("length", ["101", "1e3", "-1", "abc"])
def test_a_declared_length_over_the_cap_or_malformed_is_refused_unread(length: str) -> None:
    answer = limited(path="/upload", headers={"content-length": length}, body=b"x")
    assert answer.status == 413 and answer.inner_scope is None
    error = answer.json()["error"]
    assert error == {
        "code": "request_too_large",
        "message": "the request body is larger than 100 bytes",
        "fields": {},
    }
    assert answer.headers["connection"] == "close"


def test_a_body_within_the_cap_reaches_the_app_whole() -> None:
    answer = limited(path="/upload", headers={"content-length": "100"}, body=b"x" * 100)
    assert answer.status == 200 and answer.inner_body == b"x" * 100


def test_a_streamed_body_over_the_cap_is_cut_with_413() -> None:
    answer = limited(path="/upload", body=b"x" * 101)  # no Content-Length: chunked
    assert answer.status == 413
    assert answer.body.startswith(b'{"error": {"code": "request_too_large"')
    assert answer.inner_body == b""  # the app saw the client go away, not the body


def test_non_http_scopes_pass_untouched() -> None:
    seen: list[str] = []

    async def inner(scope: dict, receive: object, send: object) -> None:
        seen.append(scope["type"])

    import asyncio

    asyncio.run(RequestLimits(inner, CONF)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]
