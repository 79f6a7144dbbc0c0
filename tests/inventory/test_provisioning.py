"""Fast provisioning: a schema replayed from the template is the schema migrations build."""

import re

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context

from inventory import selectors, services
from inventory.models import Movement
from tenancy.models import Tenant
from tenancy.provisioning import TEMPLATE_SCHEMA, template_drop
from tenancy.services import no_statement_timeout, tenant_provision
from tests.conftest import provision

# Column positions are left out on purpose: a migrated table keeps the numbers of columns that
# later migrations dropped (django_content_type.name), a replayed one numbers them 1..n. Column
# ORDER is compared (the lists are in attnum order).
CATALOG = {
    "columns": """
        SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity,
               a.attgenerated, a.attcollation, a.atthasdef
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = %(ns)s AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY c.relname, a.attnum""",
    "relations": """
        SELECT relname, relkind, relpersistence, relhasindex, relhastriggers, relrowsecurity,
               reloptions FROM pg_class WHERE relnamespace = %(ns)s ORDER BY relname""",
    "constraints": """
        SELECT r.relname, c.conname, c.contype, c.condeferrable, c.condeferred, c.convalidated,
               pg_catalog.pg_get_constraintdef(c.oid)
          FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
         WHERE c.connamespace = %(ns)s ORDER BY r.relname, c.conname""",
    "indexes": """
        SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(name)s ORDER BY indexname""",
    "triggers": """
        SELECT c.relname, t.tgname, t.tgenabled, t.tgisinternal, pg_catalog.pg_get_triggerdef(t.oid)
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = %(ns)s AND NOT t.tgisinternal ORDER BY c.relname, t.tgname""",
    "functions": """
        SELECT proname, pg_catalog.pg_get_functiondef(oid) FROM pg_proc
         WHERE pronamespace = %(ns)s ORDER BY proname""",
    "sequences": """
        SELECT sequencename, data_type, start_value, min_value, max_value, increment_by, cycle,
               cache_size, last_value FROM pg_sequences WHERE schemaname = %(name)s
         ORDER BY sequencename""",
    "info_columns": """
        SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision,
               is_nullable, column_default, is_identity, identity_generation, identity_start,
               identity_increment, identity_maximum, identity_minimum, identity_cycle, collation_name
          FROM information_schema.columns WHERE table_schema = %(name)s
         ORDER BY table_name, column_name""",
    "info_constraints": """
        SELECT table_name, constraint_name, constraint_type, is_deferrable, initially_deferred
          FROM information_schema.table_constraints WHERE table_schema = %(name)s
           AND constraint_name !~ '^[0-9]+_[0-9]+_[0-9]+_not_null$'  -- named by oids; see columns
         ORDER BY table_name, constraint_name""",
    "info_key_columns": """
        SELECT table_name, constraint_name, column_name, ordinal_position
          FROM information_schema.key_column_usage WHERE table_schema = %(name)s
         ORDER BY table_name, constraint_name, ordinal_position""",
    "info_referential": """
        SELECT constraint_name, unique_constraint_name, match_option, update_rule, delete_rule
          FROM information_schema.referential_constraints WHERE constraint_schema = %(name)s
         ORDER BY constraint_name""",
}
DATA = {
    "django_migrations": "SELECT app, name FROM {s}.django_migrations ORDER BY id",
    "django_content_type": "SELECT id, app_label, model FROM {s}.django_content_type ORDER BY id",
    "auth_permission": "SELECT id, content_type_id, codename, name FROM {s}.auth_permission ORDER BY id",
}


def catalog(schema: str) -> dict[str, list[tuple]]:
    """Everything the catalogs say about a schema's objects, with its own name taken out."""
    found: dict[str, list[tuple]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path = ''")  # every name printed schema-qualified
        cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
        params = {"ns": cursor.fetchone()[0], "name": schema}
        for key, sql in CATALOG.items():
            cursor.execute(sql, params)
            found[key] = cursor.fetchall()
        for key, sql in DATA.items():
            cursor.execute(sql.format(s=connection.ops.quote_name(schema)))
            found[key] = cursor.fetchall()
    pattern = re.compile(rf'(?<![\w"]){re.escape(schema)}\.|"{re.escape(schema)}"\.')
    return {
        key: [
            tuple(pattern.sub("<schema>.", v) if isinstance(v, str) else v for v in row)
            for row in rows
        ]
        for key, rows in found.items()
    }


def plain_migrated_tenant(schema: str) -> Tenant:
    """django-tenants' own path: create the schema and run every migration in it."""
    tenant = Tenant(schema_name=schema, name=schema)
    with no_statement_timeout():
        tenant.save(verbosity=0)
    return tenant


@pytest.fixture(scope="module")
def fast_and_plain() -> tuple[str, str]:
    fast = tenant_provision(schema_name="prov_fast", domain="prov-fast.localhost").tenant
    plain = plain_migrated_tenant("prov_plain")
    return fast.schema_name, plain.schema_name


def test_fast_schema_is_identical_to_a_migrated_one(fast_and_plain):
    fast, plain = fast_and_plain
    got, want = catalog(fast), catalog(plain)
    assert want["columns"] and want["constraints"] and want["triggers"] and want["functions"]
    for key in want:
        assert got[key] == want[key], key


def test_migrate_schemas_has_nothing_to_apply(fast_and_plain):
    fast, _ = fast_and_plain
    with schema_context(fast):
        executor = MigrationExecutor(connection)
        assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    before = catalog(fast)
    with no_statement_timeout():
        call_command("migrate_schemas", schema_name=fast, interactive=False, verbosity=0)
    assert catalog(fast) == before


def test_ledger_writes_work_and_stay_append_only(fast_and_plain):
    fast, _ = fast_and_plain
    with schema_context(fast):
        item = services.item_create(sku="PROV-1", name="Provisioned")
        here = services.location_create(code="HERE", name="Here")
        result = services.movement_record(
            kind="receipt", item=item, quantity=5, to_location=here, actor="t", idempotency_key="k1"
        )
        again = services.movement_record(
            kind="receipt", item=item, quantity=5, to_location=here, actor="t", idempotency_key="k1"
        )
        assert again.replayed and again.movement.pk == result.movement.pk == 1
        assert selectors.stock_answer(sku="PROV-1")["quantity"] == 5
        with pytest.raises(IntegrityError), transaction.atomic():
            Movement.objects.filter(pk=result.movement.pk).update(quantity=50)


def test_template_is_rebuilt_when_tenant_migrations_change():
    # Unapply the ledger trigger migration in the template, as if 0002 were new code.
    provision("prov_warm")
    with no_statement_timeout():
        call_command(
            "migrate_schemas", "inventory", "0001", schema_name=TEMPLATE_SCHEMA, verbosity=0
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "AND NOT t.tgisinternal",
            [TEMPLATE_SCHEMA],
        )
        assert cursor.fetchone()[0] == 0
    provision("prov_after")
    assert catalog("prov_after")["triggers"] == catalog("prov_warm")["triggers"] != []
    template_drop()
    provision("prov_fresh")  # a missing template is created on demand
    assert catalog("prov_fresh")["constraints"] == catalog("prov_warm")["constraints"]


def test_a_failed_provisioning_leaves_no_tenant_row():
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA prov_taken")
    with pytest.raises(Exception):  # noqa: B017 - psycopg's DuplicateSchema via Django
        tenant_provision(schema_name="prov_taken", domain="prov-taken.localhost")
    assert not Tenant.objects.filter(schema_name="prov_taken").exists()
