"""`make bench SCALE=N`: N tenants on one PostgreSQL, and what they cost (opt-in, issue 16).

    python -m devtools.embedded -- python -m bench.run --scale 10000

Two bench databases on the same server: ONE holds only the bench tenant, MANY the bench tenant
and N-1 more (provisioned through `tenant_provision`, template replay, each given one item with
stock and its own token). Measured, and written to bench/results/scale-N.md after every phase
(so a run that is stopped early still leaves what it measured):

1. provisioning time per tenant (4 processes; the schema build alone and with the seeding);
2. C (REST) and D (MCP) p50 with 1 client, against ONE and MANY, interleaved (C1 CN D1 DN,
   three rounds; the median of the three p50s), so machine-load drift falls on both sides;
3. one psycopg connection that runs check_stock's SQL once in every tenant: its memory
   contexts (`pg_backend_memory_contexts`, its own) and private RSS, the per-tenant growth;
4. `check_stock` over MCP round-robin across all N tenants, BENCH_SCALE_PASSES passes (2),
   against a web server with `DB_POOL_MAX_SCHEMAS` = BENCH_SCALE_BUDGET (min(1000, N/4)) and
   one without recycling: the first (cold) call of each
   tenant, the second pass, and the largest private RSS of any of its PostgreSQL backends,
   sampled every 0.5 s (RssAnon from /proc: the backend's own memory, caches included,
   shared buffers not);
5. with BENCH_SCALE_MIGRATE=1: `migrate_schemas --executor=multiprocessing` with nothing to
   apply, and `migrate_tenants_behind` (only the schemas that are behind), at N tenants.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import fixtures
from bench.run import RESULTS, ROOT, Bench, Mode, make_pool, release, tempdir
from bench.servers import Proc, start_web

PROCESSES = 4  # provisioning processes: a schema build waits on fsyncs, two cores run four
ROUNDS = 3
SAMPLE_EVERY = 0.5
SKU = "SCALE-0001"


def _log(message: str) -> None:
    print(f"[bench scale] {message}", file=sys.stderr, flush=True)


def execute(tenants: int, *, keep_db: bool = False) -> Path:
    """Run the scale scenario for `tenants` tenants; returns the report's path."""
    from bench.driver import machine_facts, service_env

    base = os.environ.get("DATABASE_URL")
    if not base:
        raise SystemExit("DATABASE_URL is not set: run through `make bench` (devtools.embedded)")
    out = RESULTS / f"scale-{tenants}.md"
    budget = int(os.environ.get("BENCH_SCALE_BUDGET", min(1000, max(2, tenants // 4))))
    report = Report(out, tenants, budget, machine_facts())
    one_url, many_url = (fixtures.bench_url(base, n) for n in ("scale_one", "scale_many"))
    env = {**service_env(many_url, f"scale-{os.getpid()}"), "DB_POOL_MAX_SCHEMAS": "0"}
    os.environ.update(env)
    logdir = tempdir()
    _log(f"{tenants} tenants; recycling budget {budget}; logs in {logdir}")
    procs: list[Proc] = []
    pool = manager = None
    try:
        for name, url in (("scale_one", one_url), ("scale_many", many_url)):
            fixtures.recreate_database(base, name)
            fixtures.migrate_shared({**env, "DATABASE_URL": url})
        one = _seed_one({**env, "DATABASE_URL": one_url})
        import django

        django.setup()
        many = _seed_one(None)
        pool, manager = make_pool(env, PROCESSES)
        report.provisioning = _provision(pool, tenants - 1)
        report.write()
        report.direct = _direct_walk(many_url)
        report.write()
        report.latency = _interleaved(pool, manager, env, logdir, procs, one_url, one, many)
        report.write()
        # With recycling first: its bound is what a large run must show if it is cut short.
        for label, schemas in ((f"budget {budget}", str(budget)), ("no recycling", "0")):
            run_env = {**env, "DB_POOL_MAX_SCHEMAS": schemas}
            calls = report.provisioning["calls"]
            report.round_robin[label] = _round_robin(pool, run_env, logdir, procs, many_url, calls)
            report.write()
        if os.environ.get("BENCH_SCALE_MIGRATE"):
            report.migrations = _migrations(env, logdir)
            report.write()
        report.done = True
        report.write()
        return out
    finally:
        dropped = () if keep_db else ("scale_one", "scale_many")
        release(pool, manager, procs, base=base, drop=dropped)


# --- seeding and provisioning ----------------------------------------------------------------


def _seed_one(env: dict[str, str] | None) -> dict[str, Any]:
    """The bench tenant (fixtures.seed_tenant, 100 items); in a subprocess for the ONE database."""
    if env is not None:
        code = (
            "import django, json; django.setup(); from bench import fixtures; "
            "s = fixtures.seed_tenant(100); print(json.dumps({'token': s.token, 'skus': s.skus}))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
        )
        import json

        return dict(json.loads(out.stdout.decode().strip().splitlines()[-1]))
    seeded = fixtures.seed_tenant(100)
    from django.db import connection

    connection.close()
    return {"token": seeded.token, "skus": seeded.skus}


def _provision(pool: Any, count: int) -> dict[str, Any]:
    bounds = [count * i // PROCESSES for i in range(PROCESSES + 1)]
    chunks = [(1 + lo, hi - lo) for lo, hi in zip(bounds, bounds[1:], strict=False)]
    _log(f"provisioning {count} tenants in {PROCESSES} processes")
    t0 = time.perf_counter()
    results = pool.map(_provision_chunk, chunks, chunksize=1)
    wall = time.perf_counter() - t0
    _log(f"provisioned {count} tenants in {wall:.0f} s")
    return {
        "count": count,
        "wall": wall,
        "schema_seconds": sum(r["schema"] for r in results),
        "seed_seconds": sum(r["seed"] for r in results),
        "calls": [c for r in results for c in r["calls"]],
        "backend_contexts_mb": max(r["contexts_mb"] for r in results),
        "backend_rss_anon_mb": max(r["rss_anon_mb"] for r in results),
    }


def _provision_chunk(args: tuple[int, int]) -> dict[str, Any]:
    """One provisioning process: tenants s{start}.. with one stocked item and an MCP token."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from inventory import services
    from tenancy.services import tenant_provision, token_issue

    start, count = args
    schema_time = seed_time = 0.0
    calls = []
    for n in range(start, start + count):
        name = f"s{n:05d}"
        t0 = time.perf_counter()
        tenant = tenant_provision(schema_name=name, domain=f"{name}.localhost").tenant
        t1 = time.perf_counter()
        with schema_context(name):
            item = services.item_create(sku=SKU, name="Scale item")
            loc = services.location_create(code="LOC", name="Location")
            services.movement_record(
                kind="receipt", item=item, quantity=n % 97 + 1, actor="bench", to_location=loc
            )
        token = token_issue(tenant=tenant, name="bench", scopes=["mcp", "stock:read"]).raw
        schema_time += t1 - t0
        seed_time += time.perf_counter() - t1
        calls.append((f"{name}.localhost", token, n % 97 + 1))
        if (n - start) % 500 == 499:
            _log(f"process {os.getpid()}: {n - start + 1}/{count}")
    with connection.cursor() as cursor:
        contexts, pid = _own_contexts(cursor)
    connection.close()
    return {
        "schema": schema_time,
        "seed": seed_time,
        "calls": calls,
        "contexts_mb": contexts,
        "rss_anon_mb": rss_anon_mb(pid) or 0.0,
    }


def _own_contexts(cursor: Any) -> tuple[float, int]:
    """This connection's backend: all its memory contexts in MB, and its pid."""
    cursor.execute(
        "SELECT sum(total_bytes) / 1e6, pg_backend_pid() FROM pg_backend_memory_contexts"
    )
    mb, pid = cursor.fetchone()
    return float(mb), int(pid)


def rss_anon_mb(pid: int) -> float | None:
    """A process's private resident memory (RssAnon), MB; None when it is gone or not local."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1000
    except OSError:
        return None
    return None


# --- 3. one connection through every tenant --------------------------------------------------


def _direct_walk(url: str) -> dict[str, Any]:
    """check_stock's SQL once in every tenant schema on one connection, as a long-lived pooled
    connection would after serving each tenant once."""
    sql, params, pos = _floor_sql()
    with psycopg.connect(fixtures.libpq_url(url), autocommit=True) as conn:
        schemas = [
            r[0]
            for r in conn.execute(
                "SELECT schema_name FROM tenancy_tenant WHERE schema_name <> 'public' "
                "ORDER BY schema_name"
            ).fetchall()
        ]
        cur = conn.cursor()
        params[pos] = SKU
        cur.execute(f"SET search_path = {schemas[0]}, public")
        cur.execute(sql, params)
        start_mb, pid = _own_contexts(cur)
        start_rss = rss_anon_mb(pid) or 0.0
        t0 = time.perf_counter()
        for schema in schemas:
            cur.execute(f"SET search_path = {schema}, public")
            cur.execute(sql, params)
            cur.fetchall()
        seconds = time.perf_counter() - t0
        end_mb, _ = _own_contexts(cur)
        end_rss = rss_anon_mb(pid) or 0.0
    _log(f"direct walk: {len(schemas)} schemas, contexts {start_mb:.0f} -> {end_mb:.0f} MB")
    return {
        "schemas": len(schemas),
        "seconds": seconds,
        "contexts_start": start_mb,
        "contexts_end": end_mb,
        "rss_start": start_rss,
        "rss_end": end_rss,
    }


def _floor_sql() -> tuple[str, list[object], int]:
    from django.db import connection

    sql, params, pos = fixtures.floor_query(SKU)
    connection.close()
    return sql, params, pos


# --- 2. C and D at 1 and N tenants, interleaved ----------------------------------------------


def _interleaved(
    pool: Any,
    manager: Any,
    env: dict[str, str],
    logdir: Path,
    procs: list[Proc],
    one_url: str,
    one: dict[str, Any],
    many: dict[str, Any],
) -> dict[str, list[float]]:
    web_one, url_one = start_web({**env, "DATABASE_URL": one_url}, logdir, "web-1-tenant")
    procs.append(web_one)
    web_many, url_many = start_web(env, logdir, "web-n-tenants")
    procs.append(web_many)
    mode = Mode("scale", 100, 5.0, 20_000, 30, 0, 0, RESULTS / "unused.md")
    bench = Bench(mode, env, pool, manager)
    targets = {"1": (url_one, one), "N": (url_many, many)}
    p50s: dict[str, list[float]] = {}
    for rnd in range(ROUNDS):
        for key in "CD":
            for side in "1N":
                url, seeded = targets[side]
                spec = {
                    "kind": "rest" if key == "C" else "mcp",
                    "url": url if key == "C" else url + "/mcp",
                    "host": fixtures.HOST,
                    "token": seeded["token"],
                    "skus": seeded["skus"],
                    "schema": fixtures.TENANT,
                }
                run = bench.measure(f"{key}{side}-{rnd}", f"{key} {side}", 1, spec)
                if run.errors:
                    raise RuntimeError(f"{key} against {side}: {run.errors} errors")
                p50s.setdefault(f"{key}{side}", []).append(run.pct(50))
    for proc in (web_one, web_many):
        proc.stop()
    return p50s


# --- 4. round-robin over every tenant --------------------------------------------------------


class BackendSampler(threading.Thread):
    """The largest private RSS of any backend of one application_name, every SAMPLE_EVERY s."""

    def __init__(self, url: str, app: str) -> None:
        super().__init__(daemon=True)
        self.url, self.app = url, app
        self.largest = 0.0
        self.pids: set[int] = set()
        self.halt = threading.Event()

    def run(self) -> None:
        with psycopg.connect(fixtures.libpq_url(self.url), autocommit=True) as conn:
            while not self.halt.is_set():
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [self.app]
                ).fetchall()
                for (pid,) in rows:
                    self.pids.add(pid)
                    self.largest = max(self.largest, rss_anon_mb(pid) or 0.0)
                self.halt.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self.halt.set()
        self.join(10)


def _round_robin(
    pool: Any,
    env: dict[str, str],
    logdir: Path,
    procs: list[Proc],
    url: str,
    calls: list[tuple[str, str, int]],
) -> dict[str, Any]:
    app = f"bench-scale-{env['DB_POOL_MAX_SCHEMAS']}"
    web, web_url = start_web({**env, "PGAPPNAME": app}, logdir)
    procs.append(web)
    sampler = BackendSampler(url, app)
    sampler.start()
    try:
        passes = pool.apply(_round_robin_client, (web_url, calls))
    finally:
        sampler.stop()
        web.stop()
    log = web.log_path.read_text(errors="replace")
    result = {
        "passes": passes,
        "largest_rss_anon_mb": sampler.largest,
        "backends": len(sampler.pids),
        "recycled": log.count("recycling database connection"),
    }
    _log(
        f"round robin {app}: {result['largest_rss_anon_mb']:.0f} MB, {result['recycled']} recycled"
    )
    return result


def _round_robin_client(url: str, calls: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
    """Two passes of check_stock over MCP (raw JSON-RPC, stateless), one call per tenant each."""
    import httpx

    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "check_stock", "arguments": {"sku": SKU}},
    }
    accept = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
    passes = []
    with httpx.Client(base_url=url, headers=accept, timeout=30, trust_env=False) as http:
        for _ in range(int(os.environ.get("BENCH_SCALE_PASSES", "2"))):
            latencies, errors = [], 0
            for host, token, quantity in calls:
                headers = {"Host": host, "Authorization": f"Bearer {token}"}
                t0 = time.perf_counter_ns()
                response = http.post("/mcp", json=body, headers=headers)
                latencies.append(time.perf_counter_ns() - t0)
                ok = response.status_code == 200
                result = response.json().get("result", {}) if ok else {}
                content = result.get("structuredContent") or {}
                errors += not (ok and content.get("quantity") == quantity)
            passes.append({"latencies_ms": _summary(latencies), "errors": errors})
    return passes


def _summary(latencies_ns: list[int]) -> dict[str, float]:
    data = sorted(latencies_ns)
    return {
        "p50": data[len(data) // 2] / 1e6,
        "p95": data[min(len(data) - 1, int(0.95 * len(data)))] / 1e6,
        "p99": data[min(len(data) - 1, int(0.99 * len(data)))] / 1e6,
        "calls": len(data),
    }


# --- 5. migrations ---------------------------------------------------------------------------


def _migrations(env: dict[str, str], logdir: Path) -> dict[str, float]:
    run_env = {
        **env,
        "DB_POOL": "0",
        "DB_STATEMENT_TIMEOUT_MS": "0",
        "TENANT_MIGRATION_PROCESSES": "2",
    }
    timings = {}
    for label, argv in (
        (
            "migrate_schemas --executor=multiprocessing (nothing to apply)",
            ["migrate_schemas", "--executor=multiprocessing", "-v", "0"],
        ),
        ("migrate_tenants_behind (nothing to apply)", ["migrate_tenants_behind", "-v", "0"]),
    ):
        t0 = time.perf_counter()
        with (logdir / "migrate.log").open("ab") as log:
            subprocess.run(
                [sys.executable, "manage.py", *argv],
                cwd=ROOT,
                env=run_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        timings[label] = time.perf_counter() - t0
        _log(f"{label}: {timings[label]:.0f} s")
    return timings


# --- the report ------------------------------------------------------------------------------


class Report:
    def __init__(self, out: Path, tenants: int, budget: int, facts: dict[str, str]) -> None:
        self.out, self.tenants, self.budget, self.facts = out, tenants, budget, facts
        self.began = time.monotonic()
        self.provisioning: dict[str, Any] = {}
        self.direct: dict[str, Any] = {}
        self.latency: dict[str, list[float]] = {}
        self.round_robin: dict[str, dict[str, Any]] = {}
        self.migrations: dict[str, float] = {}
        self.done = False

    def write(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(self.render())

    def render(self) -> str:
        n = self.tenants
        lines = [
            f"# `make bench SCALE={n}` results",
            "",
            f"Generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')} by `bench/scale.py`"
            + ("" if self.done else " — **incomplete: the run had not finished these phases**")
            + f"; wall time so far {time.monotonic() - self.began:.0f} s.",
            "",
            "## Machine",
            "",
            *[f"- {k}: {v}" for k, v in self.facts.items()],
            "",
        ]
        sections = (
            (self.provisioning, self._provisioning),
            (self.latency, self._latency),
            (self.direct, self._direct),
            (self.round_robin, self._round_robin),
            (self.migrations, self._migrations),
        )
        for measured, section in sections:
            if measured:  # a phase that has not run (yet) has no section
                lines += section()
        return "\n".join(lines) + "\n"

    def _provisioning(self) -> list[str]:
        p = self.provisioning
        count = p["count"]
        return [
            f"## Provisioning {count:,} tenants ({PROCESSES} processes, `tenant_provision`)",
            "",
            "| what | total | per tenant |",
            "|---|---:|---:|",
            f"| wall time (schema, item, stock, token) | {p['wall']:.0f} s | "
            f"{p['wall'] / count * 1000:.0f} ms |",
            f"| `tenant_provision` alone, summed over processes | {p['schema_seconds']:.0f} s | "
            f"{p['schema_seconds'] / count * 1000:.0f} ms per process |",
            f"| seeding (item, receipt, token), summed | {p['seed_seconds']:.0f} s | "
            f"{p['seed_seconds'] / count * 1000:.0f} ms per process |",
            "",
            f"Largest provisioning backend at the end: {p['backend_contexts_mb']:.0f} MB in memory "
            f"contexts, {p['backend_rss_anon_mb']:.0f} MB private RSS "
            f"(each process served ~{count // PROCESSES:,} schemas on one connection).",
            "",
        ]

    def _latency(self) -> list[str]:
        n = self.tenants
        lines = [
            f"## C and D p50 at 1 vs {n:,} tenants (1 client, interleaved, median of {ROUNDS})",
            "",
            f"| scenario | p50 ms, 1 tenant | p50 ms, {n:,} tenants | ratio | rounds (1 / N) |",
            "|---|---:|---:|---:|---|",
        ]
        for key, label in (("C", "C REST GET /api/v1/stock/<sku>"), ("D", "D MCP check_stock")):
            one, many = self.latency[f"{key}1"], self.latency[f"{key}N"]
            m1, mn = statistics.median(one), statistics.median(many)
            rounds = " ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(one, many, strict=False))
            lines.append(f"| {label} | {m1:.2f} | {mn:.2f} | {mn / m1:.2f}× | {rounds} |")
        lines += [
            "",
            "Two databases on the same PostgreSQL, each served by its own web process (uvicorn, "
            "1 worker, production settings): ONE holds only the bench tenant, MANY the bench "
            f"tenant and {n - 1:,} others. Both measure the same bench tenant (100 items), "
            "alternating run by run (C1, CN, D1, DN, three rounds, 5 s each after 30 warm-up "
            "calls), so a change of machine load falls on both sides.",
            "",
        ]
        return lines

    def _direct(self) -> list[str]:
        d = self.direct
        growth = (d["contexts_end"] - d["contexts_start"]) / max(1, d["schemas"]) * 1000
        return [
            "## One connection through every tenant",
            "",
            f"check_stock's SQL (as Django sends it) once in each of {d['schemas']:,} schemas, "
            f"on one psycopg connection, in {d['seconds']:.1f} s "
            f"({d['seconds'] / max(1, d['schemas']) * 1000:.2f} ms per schema, cold):",
            "",
            "| | after 1 tenant | after all | per tenant |",
            "|---|---:|---:|---:|",
            f"| memory contexts (`pg_backend_memory_contexts`, sum) | {d['contexts_start']:.0f} MB "
            f"| {d['contexts_end']:.0f} MB | {growth:.0f} KB |",
            f"| private RSS (RssAnon) | {d['rss_start']:.0f} MB | {d['rss_end']:.0f} MB | "
            f"{(d['rss_end'] - d['rss_start']) / max(1, d['schemas']) * 1000:.0f} KB |",
            "",
        ]

    def _round_robin(self) -> list[str]:
        lines = [
            f"## check_stock round-robin over all {self.tenants - 1:,} provisioned tenants "
            "(MCP, 1 client)",
            "",
            "| web server | pass | p50 ms | p95 ms | p99 ms | errors | largest backend (RssAnon) | backends seen | recycled |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for label, r in self.round_robin.items():
            for i, p in enumerate(r["passes"]):
                lat = p["latencies_ms"]
                what = "1st: each tenant's first call" if i == 0 else "2nd"
                lines.append(
                    f"| {label} | {what} | {lat['p50']:.2f} | {lat['p95']:.2f} | {lat['p99']:.2f} "
                    f"| {p['errors']} | {r['largest_rss_anon_mb']:.0f} MB | {r['backends']} | "
                    f"{r['recycled']} |"
                )
        lines += [
            "",
            "A fresh web process per row group (uvicorn, 1 worker, psycopg pool up to 16), raw "
            "JSON-RPC `tools/call` POSTs with each tenant's Host and token, tenant after tenant, "
            "twice. `largest backend` is the largest private RSS (RssAnon, /proc) of any "
            "PostgreSQL backend of that web process, sampled every 0.5 s. With a budget "
            f"({self.budget} tenant schemas) below the number of tenants, round-robin traffic "
            "meets a connection that has not served the tenant yet on every call: that is the "
            "trade-off, memory bounded against the cold first-call cost.",
            "",
        ]
        return lines

    def _migrations(self) -> list[str]:
        return [
            f"## Migrations at {self.tenants:,} tenants (2 processes, `DB_POOL=0`)",
            "",
            "| command | wall time |",
            "|---|---:|",
            *[f"| `{k}` | {v:.0f} s |" for k, v in self.migrations.items()],
            "",
        ]
