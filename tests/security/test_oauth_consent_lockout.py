"""The OAuth consent login (/t/<schema>/oauth/login/) is the admin's login: django-axes counts
its failures in the tenant's schema, per username and per client address, with the admin's."""

from __future__ import annotations

import re

import httpx
from axes.models import AccessAttempt
from django_tenants.utils import schema_context

from tests.security.conftest import PASSWORD, make_user, new_address
from tests.support import live_server


def _consent_login(server, username: str, password: str, address: str) -> httpx.Response:  # noqa: ANN001
    headers = {"X-Forwarded-For": address}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        page = client.get("/t/alpha/oauth/login/")
        if page.status_code != 200:
            return page
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert csrf, page.text[:300]
        return client.post(
            "/t/alpha/oauth/login/",
            data={"csrfmiddlewaretoken": csrf[1], "username": username, "password": password},
        )


def test_consent_login_locks_out_an_address(proxied_server, tenant_a) -> None:  # noqa: ANN001
    attacker, bystander = new_address(), new_address()
    for _ in range(5):
        answer = _consent_login(proxied_server, make_user("alpha"), "wrong-password", attacker)
        assert answer.status_code in (200, 429)
    victim = make_user("alpha", superuser=True)
    locked = _consent_login(proxied_server, victim, PASSWORD, attacker)
    assert locked.status_code == 429, (locked.status_code, locked.text[:300])
    assert _consent_login(proxied_server, victim, PASSWORD, bystander).status_code == 302


def test_consent_login_locks_out_a_user(proxied_server, tenant_a) -> None:  # noqa: ANN001
    username = make_user("alpha", superuser=True)
    for _ in range(5):  # each from a new address: only the per-user counter can add up
        _consent_login(proxied_server, username, "wrong-password", new_address())
    locked = _consent_login(proxied_server, username, PASSWORD, new_address())
    assert locked.status_code == 429


def test_through_the_tunnel_one_users_failures_lock_out_only_that_user(tenant_a) -> None:  # noqa: ANN001
    """Every tunnelled request has the connector's address: an address lockout there would let
    anyone lock all keepers out of the consent login, so only the username counts."""
    target, bystander = make_user("alpha"), make_user("alpha", superuser=True)
    try:
        with live_server("config.asgi:tunnel_application") as upstream:
            for _ in range(6):
                answer = _consent_login(upstream, target, "wrong-password", "127.0.0.1")
                assert answer.status_code in (200, 429)
            assert _consent_login(upstream, target, PASSWORD, "127.0.0.1").status_code == 429
            assert _consent_login(upstream, bystander, PASSWORD, "127.0.0.1").status_code == 302
    finally:
        # The failures are stored with the loopback address: the address counter of logins on
        # the web port (other tests log in from loopback too) must not see them.
        with schema_context("alpha"):
            AccessAttempt.objects.filter(username=target).delete()
