"""No superuser for daily work: seed_demo is development-only and its keeper is a Stock keeper,
not a superuser; every tenant has the role groups; create_keeper makes keeper and viewer logins.
"""

from __future__ import annotations

import uuid

import httpx
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_tenants.utils import schema_context

from inventory.demo import DEMO_PASSWORD, DEMO_USERNAME
from inventory.roles import STOCK_KEEPER, VIEWER
from tests.security.conftest import PASSWORD, make_user
from tests.support import admin_session, manage


def _groups(schema: str) -> dict[str, set[str]]:
    with schema_context(schema):
        return {
            g.name: set(g.permissions.values_list("codename", flat=True))
            for g in Group.objects.prefetch_related("permissions")
        }


def _one_line_exit_2(result) -> str:  # noqa: ANN001
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    return result.stderr.strip()


def _role_login(server, schema: str, username: str, password: str, role: str) -> httpx.Client:  # noqa: ANN001
    """Check that `username` is staff with exactly `role`, no superuser; log in on its host."""
    with schema_context(schema):
        user = get_user_model().objects.get(username=username)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]
    client, answer = admin_session(server.url, f"{schema}.localhost", username, password)
    assert answer.status_code == 302
    return client


def _fresh_tenant() -> str:
    schema = f"roles_{uuid.uuid4().hex[:8]}"
    made = manage("provision_tenant", schema, "--domain", f"{schema.replace('_', '-')}.localhost")
    assert made.returncode == 0, made.stderr
    return schema


def test_seed_demo_refuses_to_run_with_debug_off():
    refused = manage("seed_demo", DJANGO_DEBUG="0")
    assert "development only" in _one_line_exit_2(refused)


def test_seed_demo_keeper_is_a_stock_keeper_not_a_superuser(server):  # noqa: ANN001
    seeded = manage("seed_demo", DJANGO_DEBUG="1")
    assert seeded.returncode == 0, seeded.stderr
    client = _role_login(server, "demo", DEMO_USERNAME, DEMO_PASSWORD, STOCK_KEEPER)
    assert client.get("/admin/inventory/item/").status_code == 200
    assert client.get("/admin/inventory/movement/").status_code == 200
    # Daily work only: no user management, nothing of the platform.
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/tenancy/tenant/").status_code == 404


def test_an_old_superuser_demo_keeper_is_demoted_on_the_next_seed():
    assert manage("seed_demo", DJANGO_DEBUG="1").returncode == 0
    with schema_context("demo"):
        get_user_model().objects.filter(username=DEMO_USERNAME).update(is_superuser=True)
    assert manage("seed_demo", DJANGO_DEBUG="1").returncode == 0
    with schema_context("demo"):
        assert not get_user_model().objects.get(username=DEMO_USERNAME).is_superuser


def test_a_freshly_provisioned_tenant_has_both_roles():
    schema = _fresh_tenant()
    groups = _groups(schema)
    assert {"view_item", "add_item", "change_item", "view_movement"} <= groups[STOCK_KEEPER]
    assert "delete_item" not in groups[STOCK_KEEPER]
    assert groups[VIEWER] and all(code.startswith("view_") for code in groups[VIEWER])


def test_migrate_restores_the_roles_of_an_existing_tenant():
    schema = _fresh_tenant()
    with schema_context(schema):
        Group.objects.all().delete()  # a tenant from before the roles existed
    migrated = manage("migrate_schemas", "--schema", schema, "-v", "0", DB_POOL="0")
    assert migrated.returncode == 0, migrated.stderr
    assert set(_groups(schema)) == {STOCK_KEEPER, VIEWER}


def test_create_keeper_makes_a_keeper_who_can_log_in(server, tenant_a):  # noqa: ANN001
    username = f"k-{uuid.uuid4().hex[:8]}"
    made = manage(
        "create_keeper", "--tenant", "alpha", username, "--password-stdin", input=PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    client = _role_login(server, "alpha", username, PASSWORD, STOCK_KEEPER)
    assert client.get("/admin/inventory/item/add/").status_code == 200


def test_create_keeper_viewer_reads_but_cannot_change(server, tenant_a):  # noqa: ANN001
    username = f"v-{uuid.uuid4().hex[:8]}"
    made = manage(
        "create_keeper",
        "--tenant",
        "alpha",
        username,
        "--viewer",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    client = _role_login(server, "alpha", username, PASSWORD, VIEWER)
    assert client.get("/admin/inventory/item/").status_code == 200
    assert client.get("/admin/inventory/item/add/").status_code == 403


def test_create_keeper_bad_input_exits_2_with_one_line(tenant_a, public_host):  # noqa: ANN001
    existing = make_user("alpha")
    cases = {
        "unknown tenant": (["--tenant", "nosuch", "someone", "--password-stdin"], PASSWORD),
        "public schema": (["--tenant", "public", "someone", "--password-stdin"], PASSWORD),
        "already exists": (["--tenant", "alpha", existing, "--password-stdin"], PASSWORD),
        "bad username": (["--tenant", "alpha", "bad name!", "--password-stdin"], PASSWORD),
        "weak password": (
            ["--tenant", "alpha", f"w-{uuid.uuid4().hex[:6]}", "--password-stdin"],
            "123",
        ),
        "empty password": (
            ["--tenant", "alpha", f"e-{uuid.uuid4().hex[:6]}", "--password-stdin"],
            "",
        ),
        "no terminal": (["--tenant", "alpha", f"t-{uuid.uuid4().hex[:6]}"], PASSWORD),
    }
    for case, (args, password) in cases.items():
        line = _one_line_exit_2(manage("create_keeper", *args, input=password + "\n"))
        assert line, case
    with schema_context("alpha"):
        assert not get_user_model().objects.filter(username__in=["bad name!", "someone"]).exists()
    with schema_context("public"):
        assert not get_user_model().objects.filter(username="someone").exists()
