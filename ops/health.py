"""Liveness and readiness: the checks behind /healthz and /readyz.

Readiness asks, each with its own timeout: can the database be reached, can the broker be
reached, is every schema (public and each tenant's) migrated to the code's latest migrations,
and whatever the apps registered with `register_database_check` (the tunnel worker: is the
tunnel up). The migrations answer is cached for READYZ_MIGRATIONS_TTL seconds per process, so
probes stay cheap with many tenants.

ops imports no app: an app that wants a readiness check registers it from its AppConfig.ready(),
so the dependency points from the app to ops and never back.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
import redis
from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_public_schema_name, get_tenant_model
from kombu import Connection
from psycopg import sql

from ops.conf import OpsSettings, ops_settings
from ops.dbconn import psycopg_conninfo
from ops.logs import redact

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")
_migrations_lock = threading.Lock()
_migrations_cache: dict[str, Any] = {"at": 0.0, "result": None}
_CHUNK = 200  # schemas per UNION ALL query

Report = dict[str, Any]


@dataclass(frozen=True)
class DatabaseCheck:
    """A readiness check that needs the database: `run` when it is up, `unknown` when it is not.

    Each returns a check report ({"ok": bool, "required": bool, ...}); `required: False` keeps a
    failing check out of `failing`.
    """

    run: Callable[[], Report]
    unknown: Callable[[], Report]


_database_checks: dict[str, DatabaseCheck] = {}


def register_database_check(
    name: str, *, run: Callable[[], Report], unknown: Callable[[], Report]
) -> None:
    """Add (or replace) a named check that runs after the database check (AppConfig.ready)."""
    _database_checks[name] = DatabaseCheck(run=run, unknown=unknown)


def liveness() -> dict[str, Any]:
    """The process answers: nothing else is checked (a liveness probe must not flap)."""
    return {"status": "ok"}


def readiness(conf: OpsSettings | None = None) -> tuple[bool, dict[str, Any]]:
    """(ready, report). The report names every check; `failing` lists the required ones down."""
    conf = conf or ops_settings()
    started = time.perf_counter()
    db_future = _pool.submit(_database_and_dependents, conf)
    broker_future = _pool.submit(_timed, _broker, conf)
    checks: dict[str, dict[str, Any]] = {}
    checks.update(db_future.result())
    checks["broker"] = broker_future.result()
    # A check skipped because the database is down is not named: the database is the cause.
    failing = [
        name
        for name, c in checks.items()
        if c.get("required", True) and not c["ok"] and not c.get("skipped")
    ]
    report = {
        "status": "fail" if failing else "ok",
        "failing": failing,
        "checks": checks,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return not failing, report


def _timed(fn: Any, conf: OpsSettings) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = {"ok": True, **(fn(conf) or {})}
    except Exception as exc:  # noqa: BLE001 - any failure is "not ready", with its reason
        result = {"ok": False, "error": describe(exc)}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def describe(exc: BaseException) -> str:
    """One redacted line naming a failure, for a check report."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact(f"{type(exc).__name__}: {text}"[:300])


# --- database, migrations, registered checks -------------------------------------------------------------


def _conninfo(conf: OpsSettings) -> dict[str, Any]:
    """Django's own connection parameters (socket or TCP, options included), with the
    readiness timeouts on top."""
    return psycopg_conninfo(
        connect_timeout=max(2, math.ceil(conf.READYZ_TIMEOUT)),
        options=f"-c statement_timeout={int(conf.READYZ_TIMEOUT * 1000)}",
        autocommit=True,
    )


def _database_and_dependents(conf: OpsSettings) -> dict[str, dict[str, Any]]:
    """The database check; the migrations and registered checks need it, so they follow it."""
    started = time.perf_counter()
    try:
        conn = psycopg.connect(**_conninfo(conf))
    except Exception as exc:  # noqa: BLE001
        ms = round((time.perf_counter() - started) * 1000, 1)
        return {
            "database": {"ok": False, "error": describe(exc), "ms": ms},
            "migrations": skipped(),
            **{name: check.unknown() for name, check in _database_checks.items()},
        }
    with conn:
        checks = {"database": _timed(lambda _: _select_one(conn), conf)}
        if checks["database"]["ok"]:
            checks["migrations"] = _timed(lambda c: _migrations_cached(conn, c), conf)
        else:
            checks["migrations"] = skipped()
    for name, check in _database_checks.items():
        checks[name] = check.run() if checks["database"]["ok"] else check.unknown()
    return checks


def _select_one(conn: psycopg.Connection) -> dict[str, Any]:
    conn.execute("SELECT 1").fetchone()
    return {}


def _migrations_cached(conn: psycopg.Connection, conf: OpsSettings) -> dict[str, Any]:
    with _migrations_lock:
        cached = _migrations_cache["result"]
        if (
            cached is not None
            and time.monotonic() - _migrations_cache["at"] < conf.READYZ_MIGRATIONS_TTL
        ):
            return {**cached, "cached": True}
        result = migrations_status(conn)
        # A good answer is kept for the TTL; a bad one is rechecked on the next probe.
        if result["ok"]:
            _migrations_cache.update(at=time.monotonic(), result=result)
        if not result["ok"]:
            raise MigrationsPending(result)
        return result


class MigrationsPending(Exception):
    """Some schema lacks the latest migrations; str() names them."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        names = ", ".join(result["pending"][:10])
        more = len(result["pending"]) - 10
        super().__init__(
            f"{len(result['pending'])} schema(s) behind: {names}"
            + (f" (+{more})" if more > 0 else "")
        )


def expected_migrations() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(public, tenant): the latest migration of each shared app and of each tenant app."""
    leaves = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()
    labels = {cfg.name: cfg.label for cfg in apps.get_app_configs()}
    shared = {labels[n] for n in settings.SHARED_APPS if n in labels}
    tenant = {labels[n] for n in settings.TENANT_APPS if n in labels}
    return [x for x in leaves if x[0] in shared], [x for x in leaves if x[0] in tenant]


def migrations_status(conn: psycopg.Connection) -> dict[str, Any]:
    """Which schemas lack one of the latest migrations. Uses one query per 200 schemas."""
    public_expected, tenant_expected = expected_migrations()
    public = get_public_schema_name()
    table = get_tenant_model()._meta.db_table
    rows = conn.execute(
        sql.SQL(
            "SELECT schema_name FROM {}.{} WHERE schema_name <> %s ORDER BY schema_name"
        ).format(sql.Identifier(public), sql.Identifier(table)),
        [public],
    ).fetchall()
    wanted = {public: public_expected, **{r[0]: tenant_expected for r in rows}}
    existing = {
        r[0]
        for r in conn.execute(
            "SELECT n.nspname FROM pg_namespace n WHERE n.nspname = ANY(%s) AND "
            "to_regclass(quote_ident(n.nspname) || '.django_migrations') IS NOT NULL",
            [list(wanted)],
        )
    }
    pending = sorted(s for s in wanted if s not in existing)
    schemas = sorted(existing)
    for i in range(0, len(schemas), _CHUNK):
        pending += _behind(conn, schemas[i : i + _CHUNK], wanted)
    return {"ok": not pending, "tenants": len(rows), "pending": sorted(pending)}


def _behind(
    conn: psycopg.Connection, schemas: list[str], wanted: dict[str, list[tuple[str, str]]]
) -> list[str]:
    parts, params = [], []
    for schema in schemas:
        pairs = wanted[schema]
        if not pairs:
            continue
        parts.append(
            sql.SQL(
                "SELECT %s AS s, count(*) AS n FROM {}.django_migrations WHERE (app, name) IN ({})"
            ).format(
                sql.Identifier(schema),
                sql.SQL(", ").join(sql.SQL("(%s, %s)") for _ in pairs),
            )
        )
        params += [schema, *(v for pair in pairs for v in pair)]
    if not parts:
        return []
    found: dict[str, int] = dict(
        conn.execute(sql.SQL(" UNION ALL ").join(parts), params).fetchall()
    )
    return [s for s in schemas if found.get(s, 0) < len(wanted[s])]


def skipped() -> Report:
    """The report of a check not run because the database is unreachable."""
    return {"ok": False, "skipped": True, "error": "not checked: database unreachable"}


# --- broker -----------------------------------------------------------------------------------


def _broker(conf: OpsSettings) -> dict[str, Any]:
    url = str(settings.CELERY_BROKER_URL)
    timeout = conf.READYZ_TIMEOUT
    if url.startswith(("redis://", "rediss://", "unix://")):
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
        return {"transport": "redis"}
    with Connection(url, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        return {"transport": conn.transport_cls}
