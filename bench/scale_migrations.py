"""Measure migrating many tenants with django-tenants' parallel executor, in a scratch database.

    python -m bench.scale_migrations --tenants 1000 --processes 2

Creates the scratch database, migrates the public schema, registers N tenants with empty
schemas, then times (1) migrating every tenant from nothing, (2) one new migration on every
tenant (inventory's latest, unapplied then applied again), (3) a run with nothing to do; prints
one JSON line with the figures and drops the database. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def _manage(env: dict[str, str], *args: str, log: Path, attempts: int = 2) -> float:
    """Run one manage.py command, timed. A failed run is re-run once, as an operator would
    (finished schemas are skipped); the time includes both runs."""
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        with log.open("a") as out:
            out.write(f"\n$ manage.py {' '.join(args)}  # {time.strftime('%H:%M:%S')}\n")
            out.flush()
            result = subprocess.run(
                [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=out, stderr=out
            )
        if result.returncode == 0:
            break
        if attempt == attempts:
            raise subprocess.CalledProcessError(result.returncode, args)
        print(json.dumps({"retried": list(args)}), flush=True)
    return round(time.monotonic() - started, 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--log", default="/tmp/scale_migrations.log")
    opts = parser.parse_args()
    name = f"inventory_scale_{os.getpid()}"
    admin = {
        "host": "127.0.0.1",
        "port": 5432,
        "user": "postgres",
        "dbname": "postgres",
        "autocommit": True,
    }
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        TEST_DB_NAME=name,
        DB_STATEMENT_TIMEOUT_MS="0",
        # The per-process psycopg pool must be off: the executor forks, and forked children
        # would share the pool's open connections (seen: crossed results, then a hang).
        DB_POOL="0",
        TENANT_MIGRATION_PROCESSES=str(opts.processes),
        TENANT_MIGRATION_CHUNKS=str(opts.chunks),
        PYTHONUNBUFFERED="1",
    )
    log = Path(opts.log)
    log.write_text("")
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    figures: dict[str, object] = {"tenants": opts.tenants, "processes": opts.processes}
    try:
        figures["public_s"] = _manage(env, "migrate_schemas", "--shared", "-v", "0", log=log)
        with psycopg.connect(**{**admin, "dbname": name}) as conn:
            for i in range(opts.tenants):
                schema = f"scale_{i:05d}"
                conn.execute(f'CREATE SCHEMA "{schema}"')
                conn.execute(
                    "INSERT INTO tenancy_tenant (schema_name, name, is_active, created_at) "
                    "VALUES (%s, %s, true, now())",
                    [schema, schema],
                )
        multi = ["--tenant", "--executor=multiprocessing", "-v", "1"]
        figures["all_from_empty_s"] = _manage(env, "migrate_schemas", *multi, log=log)
        print(json.dumps(figures), flush=True)
        _manage(
            env,
            "migrate_schemas",
            "--tenant",
            "--executor=multiprocessing",
            "inventory",
            "0002",
            log=log,
        )
        figures["one_new_migration_s"] = _manage(env, "migrate_schemas", *multi, log=log)
        figures["nothing_to_do_s"] = _manage(env, "migrate_schemas", *multi, log=log)
        print(json.dumps(figures), flush=True)
        _manage(env, "migrate_schemas", "--tenant", "inventory", "0002", "-v", "0", log=log)
        figures["one_new_migration_standard_s"] = _manage(
            env, "migrate_schemas", "--tenant", "-v", "1", log=log
        )
        figures["cpu_count"] = os.cpu_count()
        figures["load_avg_after"] = round(os.getloadavg()[0], 1)
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
