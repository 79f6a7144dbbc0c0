"""Fixtures for the control-plane security tests: the public host, logins, a proxied server."""

from __future__ import annotations

import itertools
import os
import secrets
import uuid
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from tests.support import ROOT, LiveServer, live_server, python

PUBLIC_HOST = "platform.localhost"
PASSWORD = "Sec-test-pass-7421"


@pytest.fixture(scope="session")
def public_host() -> str:
    """The public schema reachable on PUBLIC_HOST (what an operator sets up for the platform)."""
    from tenancy.models import Domain, Tenant

    with schema_context("public"):
        tenant = Tenant.objects.filter(schema_name="public").first()
        if tenant is None:
            tenant = Tenant(schema_name="public", name="Platform")
            tenant.save()
        Domain.objects.get_or_create(
            domain=PUBLIC_HOST, defaults={"tenant": tenant, "is_primary": True}
        )
    return PUBLIC_HOST


def make_user(schema: str, *, superuser: bool = False, staff: bool = True) -> str:
    """A new login in `schema` (public or a tenant); returns its username."""
    username = f"u-{uuid.uuid4().hex[:10]}"
    with schema_context(schema):
        model = get_user_model()
        if superuser:
            model.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
        else:
            model.objects.create_user(username, password=PASSWORD, is_staff=staff)
    return username


@pytest.fixture(scope="session")
def proxied_server(tenant_a, tenant_b, public_host) -> Iterator[LiveServer]:  # noqa: ANN001
    """A server behind a (simulated) trusted proxy on loopback: X-Forwarded-For is believed,
    so each test can come from its own client address."""
    with live_server(TRUSTED_PROXIES="127.0.0.1") as srv:
        yield srv


_addresses = itertools.count(1)


def new_address() -> str:
    """A client address no other test used (TEST-NET ranges of RFC 5737, never a real host)."""
    n = next(_addresses)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


def example_env() -> dict[str, str]:
    """deploy/production.env.example as shipped (comments and blank lines dropped)."""
    values = {}
    for line in (ROOT / "deploy" / "production.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@pytest.fixture
def production_env() -> dict[str, str]:
    """The shipped example environment, filled in as its header says (a generated secret)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    env.update(example_env())
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def production_setting(expression: str, env: dict[str, str]) -> str:
    """str() of a settings expression under the production settings and `env`."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(settings.{expression})"
    )
    result = python(env, "-c", code)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]
