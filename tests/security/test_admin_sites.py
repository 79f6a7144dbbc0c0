"""Two admin sites: public-schema models exist only on the public host; a tenant's superuser
finds none of their URLs (404), and the public admin works, provisions tenants and shows no
tenant models. Driven over HTTP against a live uvicorn with real logged-in sessions."""

from __future__ import annotations

import uuid

import httpx
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from inventory.roles import STOCK_KEEPER, VIEWER
from tenancy.models import ApiToken, Domain, Tenant
from tenancy.services import token_issue
from tests.security.conftest import PASSWORD, make_user
from tests.support import admin_session
from tunnel_worker.models import TunnelEvent, TunnelStatus

# Every model of the public schema, with the actions its public admin offers.
PUBLIC_MODELS = {
    "tenancy/tenant": ["delete_selected"],
    "tenancy/domain": ["delete_selected"],
    "tenancy/apitoken": ["revoke", "delete_selected"],
    "tunnel_worker/tunnelstatus": ["delete_selected"],
    "tunnel_worker/tunnelevent": ["delete_selected"],
    "axes/accessattempt": ["delete_selected"],
    "axes/accesslog": ["delete_selected"],
}


def _login(server, host: str, username: str) -> httpx.Client:  # noqa: ANN001
    client, answer = admin_session(server.url, host, username, PASSWORD)
    assert answer.status_code == 302, answer.text[:400]
    return client


def _public_rows(tenant_b: Tenant) -> dict[str, int]:
    """One real row per public model, so change/delete/history URLs would have a target."""
    with schema_context("public"):
        token = token_issue(tenant=tenant_b, name=f"victim-{uuid.uuid4().hex[:6]}", scopes=["mcp"])
        status, _ = TunnelStatus.objects.get_or_create(
            name="security-test", defaults={"since": timezone.now()}
        )
        event = TunnelEvent.objects.create(name="security-test", at=timezone.now(), kind="up")
        return {
            "tenancy/tenant": tenant_b.pk,
            "tenancy/domain": Domain.objects.get(domain="beta.localhost").pk,
            "tenancy/apitoken": token.token.pk,
            "tunnel_worker/tunnelstatus": status.pk,
            "tunnel_worker/tunnelevent": event.pk,
            "axes/accessattempt": 1,
            "axes/accesslog": 1,
        }


def test_tenant_superuser_finds_no_public_model_url(server, tenant_a, tenant_b):  # noqa: ANN001
    rows = _public_rows(tenant_b)
    client = _login(server, "alpha.localhost", make_user("alpha", superuser=True))
    csrf = client.cookies["csrftoken"]
    answers = {}
    for model, actions in PUBLIC_MODELS.items():
        app = model.split("/")[0]
        pk = rows[model]
        for url in (
            f"/admin/{app}/",
            f"/admin/{model}/",
            f"/admin/{model}/add/",
            f"/admin/{model}/{pk}/change/",
            f"/admin/{model}/{pk}/delete/",
            f"/admin/{model}/{pk}/history/",
        ):
            answers[f"GET {url}"] = client.get(url).status_code
        for action in actions:
            data = {"csrfmiddlewaretoken": csrf, "action": action, "_selected_action": [pk]}
            data["post"] = "yes"  # delete_selected's confirmation
            answers[f"POST {model} {action}"] = client.post(
                f"/admin/{model}/", data=data
            ).status_code
        delete = client.post(
            f"/admin/{model}/{pk}/delete/", data={"csrfmiddlewaretoken": csrf, "post": "yes"}
        )
        answers[f"POST {model} delete"] = delete.status_code
        add = client.post(
            f"/admin/{model}/add/", data={"csrfmiddlewaretoken": csrf, "domain": "127.0.0.1"}
        )
        answers[f"POST {model} add"] = add.status_code
    assert {k: v for k, v in answers.items() if v != 404} == {}
    # Nothing happened to the other tenant or the platform.
    with schema_context("public"):
        assert Tenant.objects.filter(pk=tenant_b.pk).exists()
        assert Domain.objects.filter(domain="beta.localhost", tenant=tenant_b).exists()
        assert ApiToken.objects.get(pk=rows["tenancy/apitoken"]).revoked_at is None
        assert not Domain.objects.filter(domain="127.0.0.1").exists()


def test_anonymous_gets_404_for_public_models_on_a_tenant_host(server, tenant_a):  # noqa: ANN001
    for url in ("/admin/tenancy/tenant/", "/admin/tenancy/", "/admin/tunnel_worker/tunnelstatus/"):
        resp = httpx.get(server.url + url, headers={"Host": "alpha.localhost"})
        assert resp.status_code == 404, url


def test_tenant_admin_is_headed_with_the_tenant_name_and_lists_only_its_models(server, tenant_a):  # noqa: ANN001
    client = _login(server, "alpha.localhost", make_user("alpha", superuser=True))
    index = client.get("/admin/")
    assert index.status_code == 200
    assert f"<title>Site administration | {tenant_a.name}</title>" in index.text
    assert f"{tenant_a.name} inventory" in index.text
    assert "/admin/inventory/item/" in index.text
    for absent in ("/admin/tenancy/", "/admin/tunnel_worker/", "/admin/axes/"):
        assert absent not in index.text


def test_public_admin_pages_answer_and_show_no_tenant_models(server, public_host, tenant_b):  # noqa: ANN001
    rows = _public_rows(tenant_b)
    client = _login(server, public_host, make_user("public", superuser=True))
    index = client.get("/admin/")
    assert index.status_code == 200 and "Inventory platform administration" in index.text
    assert "/admin/inventory/" not in index.text
    pages = ["/admin/auth/user/", "/admin/auth/group/", "/admin/auth/user/add/"]
    for model in PUBLIC_MODELS:
        pages.append(f"/admin/{model}/")
        if not model.startswith("axes/"):
            pages.append(f"/admin/{model}/{rows[model]}/change/")
            pages.append(f"/admin/{model}/{rows[model]}/history/")
    pages += ["/admin/tenancy/tenant/add/", "/admin/tenancy/domain/add/"]
    broken = {p: s for p in pages if (s := client.get(p).status_code) != 200}
    assert broken == {}
    for url in ("/admin/inventory/item/", "/admin/inventory/movement/", "/admin/inventory/"):
        assert client.get(url).status_code == 404, url


def test_public_admin_creates_a_tenant_through_provisioning(server, public_host):  # noqa: ANN001
    client = _login(server, public_host, make_user("public", superuser=True))
    schema = f"adm_{uuid.uuid4().hex[:8]}"
    domain = f"{schema.replace('_', '-')}.localhost"

    def add(**fields: str) -> httpx.Response:
        page = client.get("/admin/tenancy/tenant/add/")
        assert page.status_code == 200
        data = {"csrfmiddlewaretoken": client.cookies["csrftoken"], **fields}
        return client.post("/admin/tenancy/tenant/add/", data=data)

    for bad_domain in ("127.0.0.1", "localhost", "beta.localhost"):
        refused = add(schema_name=schema, name="Refused", domain=bad_domain)
        assert refused.status_code == 200 and "errornote" in refused.text, bad_domain
    assert not Tenant.objects.filter(schema_name=schema).exists()
    created = add(schema_name=schema, name="Made in admin", domain=domain)
    assert created.status_code == 302, created.text[:500]
    tenant = Tenant.objects.get(schema_name=schema)
    assert tenant.name == "Made in admin"
    assert list(tenant.domains.values_list("domain", "is_primary")) == [(domain, True)]
    with schema_context(schema):
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [f"{schema}.inventory_item"])
            assert cursor.fetchone()[0] is not None
        assert set(Group.objects.values_list("name", flat=True)) >= {STOCK_KEEPER, VIEWER}
    # The new tenant answers on its domain (its admin login page).
    assert httpx.get(server.url + "/admin/login/", headers={"Host": domain}).status_code == 200


def test_public_admin_refuses_a_bad_domain_for_an_existing_tenant(server, public_host, tenant_b):  # noqa: ANN001
    client = _login(server, public_host, make_user("public", superuser=True))
    client.get("/admin/tenancy/domain/add/")
    data = {
        "csrfmiddlewaretoken": client.cookies["csrftoken"],
        "domain": "127.0.0.1",
        "tenant": str(tenant_b.pk),
    }
    refused = client.post("/admin/tenancy/domain/add/", data=data)
    assert refused.status_code == 200 and "not an IP address" in refused.text
    assert not Domain.objects.filter(domain="127.0.0.1").exists()


@pytest.mark.parametrize("direction", ["tenant-user-on-public", "public-user-on-tenant"])
def test_logins_never_cross_between_public_and_tenant_admins(
    server, public_host, tenant_a, direction
):  # noqa: ANN001
    if direction == "tenant-user-on-public":
        username, host = make_user("alpha", superuser=True), public_host
    else:
        username, host = make_user("public", superuser=True), "alpha.localhost"
    client, answer = admin_session(server.url, host, username, PASSWORD)
    assert answer.status_code == 200 and "errornote" in answer.text
    assert client.get("/admin/").status_code == 302  # still a login redirect


def test_tenant_user_list_shows_only_the_tenants_own_logins(server, public_host, tenant_a):  # noqa: ANN001
    platform_user = make_user("public", superuser=True)
    client = _login(server, "alpha.localhost", make_user("alpha", superuser=True))
    users = client.get("/admin/auth/user/?q=u-")
    assert users.status_code == 200 and platform_user not in users.text


def test_staff_without_permissions_sees_no_ledger_and_no_reports(server, tenant_a):  # noqa: ANN001
    client = _login(server, "alpha.localhost", make_user("alpha", staff=True))
    index = client.get("/admin/")
    assert index.status_code == 200 and "/admin/inventory/" not in index.text
    for url in (
        "/admin/inventory/movement/",
        "/admin/inventory/lowstockreport/",
        "/admin/inventory/item/",
    ):
        assert client.get(url).status_code == 403, url
