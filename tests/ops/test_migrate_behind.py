"""`manage.py migrate_tenants_behind`: a rollout that continues where it stopped.

A schema left one migration behind (a real reverse migration, as a run that failed before
reaching it leaves it) is migrated; schemas already current are not run again.
"""

from __future__ import annotations

import uuid

from django.db import connection
from django_tenants.utils import schema_context

from tests.conftest import provision
from tests.support import manage

NO_POOL = {"DB_POOL": "0", "DB_STATEMENT_TIMEOUT_MS": "0"}
LATEST = ("inventory", "0005_restock_partial_receipts_and_admin_permissions")


def _applied(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
            list(LATEST),
        )
        return bool(cursor.fetchone()[0])


def test_only_the_schemas_behind_are_migrated_and_a_rerun_has_nothing_to_do(tenant_a):
    with schema_context("public"):  # an earlier test may leave the connection in a tenant
        behind = provision(f"behind_{uuid.uuid4().hex[:8]}").schema_name
    back = manage(
        "migrate_schemas", "--tenant", f"--schema={behind}", "inventory", "0004", **NO_POOL
    )
    assert back.returncode == 0, back.stderr
    assert not _applied(behind) and _applied(tenant_a.schema_name)

    run = manage("migrate_tenants_behind", **NO_POOL)
    assert run.returncode == 0, run.stderr
    assert _applied(behind)
    assert f":{behind}]" in run.stdout, run.stdout  # the executor names each schema it runs
    assert f":{tenant_a.schema_name}]" not in run.stdout  # current: not run again

    again = manage("migrate_tenants_behind", **NO_POOL)
    assert again.returncode == 0, again.stderr
    assert "0 tenant schema(s) behind" in again.stdout


def test_a_target_migration_is_refused_with_one_line():
    run = manage("migrate_tenants_behind", "inventory", "0004", **NO_POOL)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "latest migrations" in run.stderr
