"""Limits and the error shape at the edges: page caps, body cap, non-JSON, throttling."""

import uuid

import httpx
import pytest
from django.conf import settings

from tests.api.conftest import ALPHA, make_client, make_location
from tests.support import live_server


def _is_error(resp, status: int, code: str) -> None:  # noqa: ANN001
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert set(resp.json()) == {"error"}
    assert set(resp.json()["error"]) == {"code", "message", "fields"}
    assert resp.json()["error"]["code"] == code


def test_pages_are_capped(api_a):
    cap = settings.INVENTORY_API["MAX_PAGE_SIZE"]
    default = settings.INVENTORY_API["PAGE_SIZE"]
    tag = f"PG{uuid.uuid4().hex[:6].upper()}"
    for n in range(3):
        make_location(api_a, f"{tag}-{n}")
    page = api_a.get("/locations", params={"search": tag, "page_size": 2}).json()
    assert (page["count"], len(page["results"])) == (3, 2)
    next_url = httpx.URL(page["next"])
    assert (next_url.host, next_url.params["page"]) == ("alpha.localhost", "2")
    assert len(api_a.get("/locations", params=next_url.params).json()["results"]) == 1
    assert api_a.get("/locations", params={"page_size": cap}).status_code == 200
    for bad in ({"page_size": cap + 1}, {"page_size": 0}, {"page_size": "ten"}, {"page": "-1"}):
        _is_error(api_a.get("/locations", params=bad), 400, "invalid")
    _is_error(api_a.get("/locations", params={"search": tag, "page": 99}), 404, "not_found")
    assert len(api_a.get("/movements").json()["results"]) <= default


def test_an_oversized_body_is_a_413(api_a):
    cap = settings.INVENTORY_API["MAX_BODY_BYTES"]
    resp = api_a.post("/locations", json={"code": "BIG", "name": "x" * (cap + 10)})
    _is_error(resp, 413, "request_too_large")


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"code=A&name=B", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"{not json", "application/json", 400, "parse_error"),
        (b'{"code": NaN, "name": "x"}', "application/json", 400, "parse_error"),
        (b'{"code": "\\ud800", "name": "x"}', "application/json", 400, "parse_error"),
        (b"[1, 2]", "application/json", 400, "invalid"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(api_a, content, content_type, status, code):
    resp = api_a.post("/locations", content=content, headers={"Content-Type": content_type})
    _is_error(resp, status, code)


def test_unknown_paths_and_methods_answer_in_the_error_shape(api_a):
    _is_error(api_a.get("/nothing/here"), 404, "not_found")
    _is_error(api_a.post("/restocks/abc/receive", json={}), 404, "not_found")
    resp = api_a.delete("/items")
    _is_error(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["Allow"]


def test_throttling_is_per_token_with_retry_after(tenant_a, issue):
    with live_server(API_RATE="3/hour", DB_CONN_MAX_AGE="0") as slow:
        first, second = issue(tenant_a), issue(tenant_a)
        with make_client(slow, ALPHA, first) as client:
            statuses = [client.get("/locations").status_code for _ in range(3)]
            throttled = client.get("/locations")
        assert statuses == [200, 200, 200]
        _is_error(throttled, 429, "throttled")
        assert 1 <= int(throttled.headers["Retry-After"]) <= 3600
        with make_client(slow, ALPHA, second) as other:
            assert other.get("/locations").status_code == 200


def test_an_unreachable_limiter_still_limits_each_process(tenant_a, issue):
    """Redis down: the per-token rate is not lifted (each process counts its own calls) and
    calls within it are not refused."""
    from tests.support import free_port

    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    token = issue(tenant_a)
    with (
        live_server(REDIS_URL=dead_redis, API_RATE="3/hour", DB_CONN_MAX_AGE="0") as srv,
        make_client(srv, ALPHA, token) as client,
    ):
        statuses = [client.get("/locations").status_code for _ in range(3)]
        throttled = client.get("/locations")
    assert statuses == [200, 200, 200]
    _is_error(throttled, 429, "throttled")
