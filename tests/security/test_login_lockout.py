"""Admin login lockout (django-axes) per username and per client address, on both admin sites.

The server runs behind a simulated trusted proxy on loopback (TRUSTED_PROXIES=127.0.0.1), so
each test comes from client addresses of its own via X-Forwarded-For; the counters live in each
schema's own tables.
"""

from __future__ import annotations

import uuid

import httpx

from tests.security.conftest import PASSWORD, make_user, new_address
from tests.support import admin_session


def _attempt(server, host: str, username: str, password: str, address: str) -> httpx.Response:  # noqa: ANN001
    client, answer = admin_session(
        server.url, host, username, password, **{"X-Forwarded-For": address}
    )
    client.close()
    return answer


def _assert_locked(answer: httpx.Response) -> None:
    assert answer.status_code == 429, (answer.status_code, answer.text[:300])
    assert "Too many failed logins" in answer.text


def test_thirty_wrong_passwords_lock_the_user_out(proxied_server, tenant_a):  # noqa: ANN001
    username = make_user("alpha", superuser=True)
    for _ in range(30):  # each from a new address: only the per-user counter can add up
        answer = _attempt(
            proxied_server, "alpha.localhost", username, "wrong-password", new_address()
        )
        assert answer.status_code in (200, 429)
    _assert_locked(_attempt(proxied_server, "alpha.localhost", username, PASSWORD, new_address()))


def test_one_address_is_locked_out_across_usernames(proxied_server, tenant_a):  # noqa: ANN001
    attacker, bystander = new_address(), new_address()
    for _ in range(5):
        _attempt(proxied_server, "alpha.localhost", make_user("alpha"), "wrong-password", attacker)
    victim = make_user("alpha", superuser=True)
    _assert_locked(_attempt(proxied_server, "alpha.localhost", victim, PASSWORD, attacker))
    # Not a global lock: the same login from another address works.
    assert (
        _attempt(proxied_server, "alpha.localhost", victim, PASSWORD, bystander).status_code == 302
    )


def test_the_public_admin_locks_out_too(proxied_server, public_host):  # noqa: ANN001
    username = make_user("public", superuser=True)
    for _ in range(5):
        _attempt(proxied_server, public_host, username, "wrong-password", new_address())
    _assert_locked(_attempt(proxied_server, public_host, username, PASSWORD, new_address()))


def test_a_lockout_in_one_tenant_does_not_lock_another(proxied_server, tenant_a, tenant_b):  # noqa: ANN001
    username = make_user("alpha", superuser=True)
    for _ in range(5):
        _attempt(proxied_server, "alpha.localhost", username, "wrong-password", new_address())
    _assert_locked(_attempt(proxied_server, "alpha.localhost", username, PASSWORD, new_address()))
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    with schema_context("beta"):
        get_user_model().objects.create_superuser(username, "x@example.com", PASSWORD)
    assert (
        _attempt(proxied_server, "beta.localhost", username, PASSWORD, new_address()).status_code
        == 302
    )


def test_without_a_trusted_proxy_x_forwarded_for_cannot_dodge_the_lock(server):  # noqa: ANN001
    """From an untrusted peer, a new X-Forwarded-For per try is still one address (loopback).

    In a tenant of its own: loopback ends up locked out there for the cool-off time.
    """
    from axes.models import AccessAttempt
    from django_tenants.utils import schema_context

    from tests.conftest import provision

    schema = f"lock_{uuid.uuid4().hex[:8]}"
    host = f"{schema.replace('_', '-')}.localhost"
    with schema_context("public"):  # tenants are created from the public schema
        provision(schema, host)
    for _ in range(5):
        _attempt(server, host, make_user(schema), "wrong-password", new_address())
    _assert_locked(
        _attempt(server, host, make_user(schema, superuser=True), PASSWORD, new_address())
    )
    with schema_context(schema):
        addresses = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert addresses == {"127.0.0.1"}
