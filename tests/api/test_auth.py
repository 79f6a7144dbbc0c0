"""Authentication and authorization: every bad credential gets the same 401; scopes give 403."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tenancy.models import ApiToken
from tenancy.services import token_revoke
from tests.api.conftest import ALPHA, make_client

UNKNOWN = "inv_0123456789ab_" + "x" * 43


def _prefix(raw: str) -> str:
    return raw.split("_")[1]


def _signature(resp) -> tuple:  # noqa: ANN001
    return resp.status_code, resp.content, resp.headers.get("WWW-Authenticate")


@pytest.fixture
def bad_tokens(tenant_a, tenant_b, issue) -> dict[str, str | None]:  # noqa: ANN001
    revoked = issue(tenant_a)
    token_revoke(prefix=_prefix(revoked))
    expired = issue(tenant_a, expires_in=timedelta(days=1))
    ApiToken.objects.filter(prefix=_prefix(expired)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    return {
        "no token": None,
        "malformed": "not-a-token",
        "wrong scheme": "Basic dXNlcjpwYXNz",
        "wrong secret": issue(tenant_a)[:-4] + "AAAA",
        "other tenant": issue(tenant_b),
        "revoked": revoked,
        "expired": expired,
    }


@pytest.mark.parametrize("path", ["/items", "/stock/ABC", "/movements"])
def test_every_bad_credential_gets_the_same_401(server, bad_tokens, path):
    with make_client(server, ALPHA, UNKNOWN) as client:
        reference = client.get(path)
    assert reference.status_code == 401
    assert reference.headers["WWW-Authenticate"].startswith("Bearer")
    assert reference.json() == {
        "error": {
            "code": "unauthenticated",
            "message": "a valid bearer token for this tenant is required",
            "fields": {},
        }
    }
    for label, token in bad_tokens.items():
        if label == "wrong scheme":
            with make_client(server, ALPHA, None) as client:
                resp = client.get(path, headers={"Authorization": token})
        else:
            with make_client(server, ALPHA, token) as client:
                resp = client.get(path)
        assert _signature(resp) == _signature(reference), label


def test_writes_with_bad_credentials_get_the_same_401(server, bad_tokens):
    body = {"sku": "AUTH-1", "name": "x"}
    with make_client(server, ALPHA, UNKNOWN) as client:
        reference = client.post("/items", json=body)
    for label, token in bad_tokens.items():
        if label == "wrong scheme":
            continue
        with make_client(server, ALPHA, token) as client:
            assert _signature(client.post("/items", json=body)) == _signature(reference), label


def test_a_valid_token_works(api_a):
    assert api_a.get("/items").status_code == 200


@pytest.mark.parametrize(
    ("scopes", "method", "path", "missing"),
    [
        (("stock:read",), "POST", "/items", "stock:write"),
        (("stock:read",), "POST", "/locations", "stock:write"),
        (("stock:read",), "PATCH", "/items/ABC", "stock:write"),
        (("stock:write",), "GET", "/items", "stock:read"),
        (("stock:write",), "GET", "/stock/ABC", "stock:read"),
        (("mcp",), "GET", "/movements", "stock:read"),
        (("mcp",), "POST", "/restocks/1/receive", "stock:write"),
    ],
)
def test_a_missing_scope_is_a_403_naming_it(server, tenant_a, issue, scopes, method, path, missing):
    with make_client(server, ALPHA, issue(tenant_a, scopes=scopes)) as client:
        resp = client.request(method, path, json={})
    assert resp.status_code == 403
    error = resp.json()["error"]
    assert error["code"] == "missing_scope"
    assert repr(missing) in error["message"]


def test_schema_and_docs_need_no_token(server):
    with make_client(server, ALPHA, None) as client:
        schema = client.get("/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
        docs = client.get("/docs/")
    assert schema.status_code == 200
    assert schema.json()["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_an_unknown_host_is_a_404(server, token_a):
    with make_client(server, "nobody.localhost", token_a) as client:
        assert client.get("/items").status_code == 404
