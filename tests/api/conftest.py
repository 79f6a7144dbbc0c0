"""Fixtures for the REST API tests: tokens, and HTTP clients aimed at a tenant's host."""

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest

from tenancy.models import Tenant
from tenancy.services import token_issue
from tests.support import LiveServer

ALPHA, BETA = "alpha.localhost", "beta.localhost"
ALL = ("stock:read", "stock:write")

IssueToken = Callable[..., str]


@pytest.fixture(scope="session")
def issue() -> IssueToken:
    """Issue a token for a tenant; returns the raw `inv_<prefix>_<secret>`."""

    def _issue(
        tenant: Tenant, scopes: tuple[str, ...] = ALL, expires_in: timedelta | None = None
    ) -> str:
        name = f"test-{uuid.uuid4().hex[:8]}"
        return token_issue(tenant=tenant, name=name, scopes=list(scopes), expires_in=expires_in).raw

    return _issue


def make_client(server: LiveServer, host: str, token: str | None) -> httpx.Client:
    headers = {"Host": host}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=30)


@pytest.fixture
def token_a(tenant_a: Tenant, issue: IssueToken) -> str:
    return issue(tenant_a)


@pytest.fixture
def token_b(tenant_b: Tenant, issue: IssueToken) -> str:
    return issue(tenant_b)


@pytest.fixture
def api_a(server: LiveServer, token_a: str) -> Iterator[httpx.Client]:
    with make_client(server, ALPHA, token_a) as client:
        yield client


@pytest.fixture
def api_b(server: LiveServer, token_b: str) -> Iterator[httpx.Client]:
    with make_client(server, BETA, token_b) as client:
        yield client


def new_code() -> str:
    return f"L-{uuid.uuid4().hex[:8].upper()}"


def make_item(api: httpx.Client, sku: str, **fields: object) -> dict:
    resp = api.post("/items", json={"sku": sku, "name": f"Item {sku}", **fields})
    assert resp.status_code == 201, resp.text
    return resp.json()


def make_location(api: httpx.Client, code: str | None = None) -> str:
    code = code or new_code()
    resp = api.post("/locations", json={"code": code, "name": f"Location {code}"})
    assert resp.status_code == 201, resp.text
    return code


def move(api: httpx.Client, key: str | None = None, **body: object) -> httpx.Response:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    return api.post("/movements", json=body, headers=headers)


def receive(api: httpx.Client, sku: str, location: str, quantity: int) -> dict:
    resp = move(api, kind="receipt", sku=sku, quantity=quantity, to_location=location)
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.fixture(scope="session")
def tenant_c() -> Tenant:
    """A tenant no other test writes to (schema api_probe, host api-probe.localhost)."""
    from tests.conftest import provision

    return provision("api_probe", "api-probe.localhost")


def ledger_count(tenant: Tenant) -> int:
    from django_tenants.utils import schema_context

    from inventory.models import Movement

    with schema_context(tenant.schema_name):
        return Movement.objects.count()
