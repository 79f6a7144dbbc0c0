"""Fast tenant schemas: replay a migrated template schema's DDL in one transaction.

django-tenants migrates every new schema (~0.8 s here: the migration graph, one statement at a
time, post_migrate) or clones a base schema with a PL/pgSQL function (~3 s). Instead, a template
schema is kept migrated (`TEMPLATE_SCHEMA`, created on demand and migrated again whenever the
tenant migrations change), its objects are read from pg_catalog once per process, and a new
schema is built from that script in ONE round trip, inside the transaction that inserts the
tenant row: schema, tables with identity columns, rows the migrations wrote (django_migrations,
content types, permissions) with their sequence positions, constraints, indexes, functions and
triggers. A schema built this way is identical to a migrated one (tests/inventory/
test_provisioning.py compares the catalogs), and `migrate_schemas` finds nothing to apply.

If the template ever holds an object kind the script does not reproduce (a view, an enum, a
standalone sequence, a comment, a policy...), provisioning falls back to django-tenants' plain
create-and-migrate rather than produce a schema that differs.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.models import TenantMixin
from django_tenants.signals import post_schema_sync
from django_tenants.utils import schema_exists

logger = logging.getLogger(__name__)

# Not a valid tenant schema name (it starts with '_'), so no tenant can ever be given it.
TEMPLATE_SCHEMA = "_tenant_template"
_LOCK_KEY = 0x7E4A_97E1  # pg_advisory_lock key serialising template (re)builds
# An unquoted "_tenant_template." is the template's name as pg_catalog prints it: it becomes the
# new schema's. A quoted one (written only by _copy_rows) stays: rows are copied from there.
_PLACEHOLDER = re.compile(rf'(?<![\w"]){TEMPLATE_SCHEMA}\.')


class UnsupportedTemplate(Exception):
    """The template holds objects that the replayed script would not reproduce."""


@dataclass(frozen=True)
class SchemaScript:
    """SQL that builds a tenant schema; `{schema}`-qualified names are filled in by render()."""

    sql: str
    migrations: frozenset[tuple[str, str]]

    def render(self, schema_name: str) -> str:
        quoted = connection.ops.quote_name(schema_name)
        return _PLACEHOLDER.sub(lambda _: f"{quoted}.", self.sql).replace("{schema}", quoted)


_cache: dict[str, SchemaScript] = {}
_cache_lock = threading.Lock()


def tenant_create(tenant: TenantMixin, *, verbosity: int = 0) -> None:
    """Save a new tenant and build its schema from the template, both in one transaction.

    Falls back to django-tenants' own create-and-migrate when the template cannot be replayed.
    """
    try:
        script = schema_script()
    except UnsupportedTemplate as exc:
        logger.warning("fast provisioning unavailable (%s); migrating the schema instead", exc)
        tenant.save(verbosity=verbosity)
        return
    tenant.auto_create_schema = False  # the schema is built below, in the same transaction
    try:
        with transaction.atomic(), connection.cursor() as cursor, _local_settings(cursor):
            tenant.save(verbosity=verbosity)
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute(script.render(tenant.schema_name))
    finally:
        del tenant.auto_create_schema  # back to the class default for later saves
    post_schema_sync.send(sender=TenantMixin, tenant=tenant.serializable_fields())


@contextmanager
def _local_settings(cursor) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Put back search_path and statement_timeout, which the script sets with SET LOCAL.

    SET LOCAL lasts until the outermost transaction ends; when provisioning runs inside a
    caller's transaction, the caller's later queries must not see the script's settings (and
    django-tenants, with TENANT_LIMIT_SET_CALLS, trusts the search_path it last set).
    """
    cursor.execute("SELECT current_setting('search_path'), current_setting('statement_timeout')")
    search_path, timeout = cursor.fetchone()
    yield
    cursor.execute(
        "SELECT set_config('search_path', %s, true), set_config('statement_timeout', %s, true)",
        [search_path, timeout],
    )


def schema_script() -> SchemaScript:
    """The replay script of the current template, (re)building the template when it is stale."""
    expected = _expected_migrations()
    with _cache_lock:
        script = _cache.get("script")
        if script is not None and script.migrations == expected and _template_current(expected):
            return script
        with _template_lock():
            template_ensure(expected)
            script = _capture(expected)
        _cache["script"] = script
        return script


def _expected_migrations() -> frozenset[tuple[str, str]]:
    """Every migration a migrated tenant schema records in its django_migrations table."""
    if "expected" not in _expected:  # the code's migrations cannot change while it runs
        _expected["expected"] = frozenset(
            MigrationLoader(None, ignore_no_migrations=True).graph.nodes
        )
    return _expected["expected"]


_expected: dict[str, frozenset[tuple[str, str]]] = {}


def _template_has_migrations_table(cursor: Any) -> bool:
    cursor.execute(
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = %s "
        "AND tablename = 'django_migrations'",
        [TEMPLATE_SCHEMA],
    )
    return bool(cursor.fetchone()[0])


def _template_current(expected: frozenset[tuple[str, str]]) -> bool:
    # One cheap query per provisioning: the template may have been rebuilt by another process.
    with connection.cursor() as cursor:
        if not _template_has_migrations_table(cursor):
            return False
        cursor.execute(f"SELECT count(*) FROM {TEMPLATE_SCHEMA}.django_migrations")
        return cursor.fetchone()[0] == len(expected)


@contextmanager
def _template_lock() -> Iterator[None]:
    """Serialise template (re)builds across processes with a session advisory lock.

    The lock lives on a connection of its own: Django's connection may be closed inside the
    block (migrate_schemas does) and, with a connection pool, handed back to the pool still
    holding the lock. Closing this connection, or the process dying, releases it.
    """
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as lock:
        lock.execute("SET statement_timeout = 0")  # waiting for a rebuild may take seconds
        lock.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
        yield


def template_ensure(expected: frozenset[tuple[str, str]] | None = None) -> None:
    """Create or migrate the template schema so it records exactly the expected migrations."""
    expected = expected if expected is not None else _expected_migrations()
    applied = _template_migrations()
    if applied is not None and applied - expected:
        logger.info("tenant template has migrations no longer in the code; rebuilding it")
        template_drop()
        applied = None
    if applied == expected:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        if applied is None:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {TEMPLATE_SCHEMA}")
    try:
        call_command("migrate_schemas", schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=0)
    finally:
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def template_migrate() -> None:
    """Bring the template up to the code's migrations now (first step of a release's rollout),
    under the lock that provisioning takes, so no tenant is built from a half-migrated one."""
    with _cache_lock, _template_lock():
        template_ensure()
        _cache.clear()


def template_drop() -> None:
    """Drop the template schema (it is rebuilt on the next provisioning)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {TEMPLATE_SCHEMA} CASCADE")
    _cache.clear()


def _template_migrations() -> frozenset[tuple[str, str]] | None:
    if not schema_exists(TEMPLATE_SCHEMA):
        return None
    with connection.cursor() as cursor:
        if not _template_has_migrations_table(cursor):
            return frozenset()
        cursor.execute(f"SELECT app, name FROM {TEMPLATE_SCHEMA}.django_migrations")
        return frozenset((app, name) for app, name in cursor.fetchall())


# --- Reading the template from pg_catalog ----------------------------------------------------

_UNSUPPORTED = """
SELECT 'relation ' || c.relname || ' of kind ' || c.relkind::text
  FROM pg_class c WHERE c.relnamespace = %(ns)s AND c.relkind NOT IN ('r', 'i', 'S')
UNION ALL
SELECT 'sequence ' || c.relname || ' that is not an identity column''s'
  FROM pg_class c WHERE c.relnamespace = %(ns)s AND c.relkind = 'S' AND NOT EXISTS (
    SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
       AND d.deptype = 'i')
UNION ALL
SELECT 'table option on ' || c.relname FROM pg_class c
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' AND (c.relpersistence <> 'p'
       OR c.reloptions IS NOT NULL OR c.relrowsecurity OR c.relispartition OR c.relhasrules
       OR c.relacl IS NOT NULL OR c.reloftype <> 0
       OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid))
UNION ALL
SELECT 'type ' || t.typname FROM pg_type t
 WHERE t.typnamespace = %(ns)s AND t.typrelid = 0 AND t.typelem = 0
UNION ALL
SELECT 'comment on ' || d.objoid::regclass::text FROM pg_description d
  JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
 WHERE c.relnamespace = %(ns)s
UNION ALL
SELECT 'routine ' || p.proname || ' of kind ' || p.prokind::text FROM pg_proc p
 WHERE p.pronamespace = %(ns)s AND p.prokind NOT IN ('f', 'p')
UNION ALL
SELECT 'generated or non-default column ' || c.relname || '.' || a.attname
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
   AND (a.attgenerated <> '' OR a.attstattarget > 0 OR a.attacl IS NOT NULL)
UNION ALL
SELECT 'statistics object ' || s.stxname FROM pg_statistic_ext s WHERE s.stxnamespace = %(ns)s
"""

_TABLES = """
SELECT c.oid, c.relname FROM pg_class c
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' ORDER BY c.oid
"""

_COLUMNS = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
       s.seqrelid::regclass::text, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
       s.seqcycle
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
  LEFT JOIN pg_depend dep ON a.attidentity <> '' AND dep.refobjid = a.attrelid
       AND dep.refobjsubid = a.attnum AND dep.deptype = 'i' AND dep.classid = 'pg_class'::regclass
  LEFT JOIN pg_sequence s ON s.seqrelid = dep.objid
 WHERE a.attrelid = %(rel)s AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum
"""

# Keys and checks are declared inside CREATE TABLE (fewer statements, each index built once on
# an empty table); foreign keys are added after every table exists, one ALTER TABLE per table.
_CONSTRAINTS = """
SELECT c.conrelid, c.contype = 'f', c.conname, pg_catalog.pg_get_constraintdef(c.oid, true)
  FROM pg_constraint c
 WHERE c.connamespace = %(ns)s AND c.contype IN ('p', 'u', 'c', 'x', 'f') AND c.conislocal
 ORDER BY c.conrelid, c.oid
"""

_INDEXES = """
SELECT pg_catalog.pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = %(ns)s AND NOT EXISTS (
       SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')
          AND k.conrelid = i.indrelid)
 ORDER BY i.indexrelid
"""

_FUNCTIONS = """
SELECT pg_catalog.pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.pronamespace = %(ns)s ORDER BY p.oid
"""

_TRIGGERS = """
SELECT pg_catalog.pg_get_triggerdef(t.oid, true) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = %(ns)s AND NOT t.tgisinternal ORDER BY t.oid
"""


def _capture(expected: frozenset[tuple[str, str]]) -> SchemaScript:
    """Read the template schema's objects from pg_catalog into one replayable script."""
    with transaction.atomic(), connection.cursor() as cursor, _local_settings(cursor):
        # With an empty search_path every name outside pg_catalog comes out schema-qualified,
        # so each template reference can be rewritten to the new schema.
        cursor.execute("SET LOCAL search_path = ''")
        cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [TEMPLATE_SCHEMA])
        ns = {"ns": cursor.fetchone()[0]}
        cursor.execute(_UNSUPPORTED, ns)
        problems = [row[0] for row in cursor.fetchall()]
        if problems:
            raise UnsupportedTemplate("; ".join(problems[:5]))
        cursor.execute(_CONSTRAINTS, ns)
        inline: dict[int, list[str]] = {}
        foreign: dict[int, list[str]] = {}
        for rel, is_fk, con, definition in cursor.fetchall():
            (foreign if is_fk else inline).setdefault(rel, []).append(
                f"CONSTRAINT {_q(con)} {definition}"
            )
        cursor.execute(_TABLES, ns)
        tables = cursor.fetchall()
        parts = ["CREATE SCHEMA {schema};", "SET LOCAL search_path = {schema}, public;"]
        copies: list[str] = []
        for oid, name in tables:
            cursor.execute(_COLUMNS, {"rel": oid})
            columns = cursor.fetchall()
            parts.append(_create_table(name, columns, inline.get(oid, [])))
            copies += _copy_rows(cursor, name, columns)
        parts += copies
        for oid, name in tables:
            if oid in foreign:
                adds = ", ".join(f"ADD {fk}" for fk in foreign[oid])
                parts.append(f"ALTER TABLE {TEMPLATE_SCHEMA}.{_q(name)} {adds};")
        cursor.execute(_INDEXES, ns)
        parts += [f"{row[0]};" for row in cursor.fetchall()]
        cursor.execute(_FUNCTIONS, ns)
        parts += [f"{row[0]};" for row in cursor.fetchall()]
        cursor.execute(_TRIGGERS, ns)
        parts += [f"{row[0]};" for row in cursor.fetchall()]
    return SchemaScript(sql="\n".join(parts), migrations=expected)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _create_table(name: str, columns: list[tuple], constraints: list[str]) -> str:
    defs = []
    for col, typ, notnull, default, identity, collation, seq, *options in columns:
        parts = [_q(col), typ]
        if collation:
            parts.append(f"COLLATE {_q(collation)}")
        if identity:
            start, inc, minv, maxv, cache, cycle = options
            kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
            parts.append(
                f"GENERATED {kind} AS IDENTITY (SEQUENCE NAME {seq} START WITH {start} "
                f"INCREMENT BY {inc} MINVALUE {minv} MAXVALUE {maxv} CACHE {cache}"
                f"{' CYCLE' if cycle else ''})"
            )
        elif default is not None:
            parts.append(f"DEFAULT {default}")
        if notnull:
            parts.append("NOT NULL")
        defs.append(" ".join(parts))
    return f"CREATE TABLE {TEMPLATE_SCHEMA}.{_q(name)} ({', '.join(defs + constraints)});"


def _copy_rows(cursor, name: str, columns: list[tuple]) -> list[str]:  # type: ignore[no-untyped-def]
    """Rows the migrations wrote into this table, copied from the template at replay time."""
    table = f'"{TEMPLATE_SCHEMA}".{_q(name)}'  # quoted: stays the template's when rendered
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
    if not cursor.fetchone()[0]:
        return []
    target = f"{TEMPLATE_SCHEMA}.{_q(name)}"  # unquoted: becomes the new schema's
    statements = [f"INSERT INTO {target} OVERRIDING SYSTEM VALUE SELECT * FROM {table};"]
    for _col, _typ, _nn, _default, identity, _coll, seq, *_ in columns:
        if identity:
            template_seq = seq.replace(f"{TEMPLATE_SCHEMA}.", f'"{TEMPLATE_SCHEMA}".', 1)
            statements.append(
                f"SELECT pg_catalog.setval('{seq}', s.last_value, s.is_called) "
                f"FROM {template_seq} s;"
            )
    if name == "django_migrations":
        statements.append(f"UPDATE {target} SET applied = now();")
    return statements
