"""Client loops, one per client process: warm up, wait for the common start, then time each call.

Every loop is bounded in count (`max_requests`) and in time (`duration`). Each returns its
latencies in nanoseconds and when it started and stopped, so the orchestrator can compute
percentiles and throughput across clients.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

Spec = dict[str, Any]


def init_worker(env: dict[str, str]) -> None:
    """Pool initializer: the bench environment and Django (scenario B needs the ORM)."""
    os.environ.update(env)
    import logging

    import django

    django.setup()
    logging.getLogger().setLevel(logging.WARNING)  # no log line per client request
    # Import every client library now, so no client pays for imports inside a timed run.
    import httpx  # noqa: F401
    import httpx2  # noqa: F401
    import psycopg  # noqa: F401
    from mcp import Client  # noqa: F401
    from mcp.client.streamable_http import streamable_http_client  # noqa: F401

    from inventory.selectors import stock_snapshot  # noqa: F401


def run_client(spec: Spec) -> dict[str, Any]:
    kind = spec["kind"]
    if kind in ("mcp",):
        return asyncio.run(_mcp(spec))
    kinds = {"floor": _floor, "writefloor": _write_floor, "inproc": _inproc, "rest": _rest}
    return {**kinds, "write": _write}[kind](spec)


def _sku(spec: Spec, i: int) -> str:
    skus = spec["skus"]
    return skus[(i * 7 + spec["index"] * 13) % len(skus)]


class _Window:
    """The timed run of one client: each call's latency and end time, and the errors."""

    def __init__(self, spec: Spec) -> None:
        self.latencies: list[int] = []
        self.ends: list[float] = []
        self.errors = 0
        self.started = time.time()
        self.deadline = time.perf_counter() + spec["duration"]

    def record(self, t0: int, t1: int, ok: bool) -> bool:
        """Keep one call (perf_counter_ns before and after); True once the duration is over."""
        self.latencies.append(t1 - t0)
        self.ends.append(time.time())
        self.errors += not ok
        return t1 / 1e9 > self.deadline

    def result(self) -> dict[str, Any]:
        return {
            "latencies": self.latencies,
            "ends": self.ends,
            "errors": self.errors,
            "started": self.started,
        }


def _timed(spec: Spec, call: Callable[[int], bool]) -> dict[str, Any]:
    for i in range(spec["warmup"]):
        call(i)
    _sleep_until(spec["barrier"])
    window = _Window(spec)
    for i in range(spec["max_requests"]):
        t0 = time.perf_counter_ns()
        ok = call(i)
        if window.record(t0, time.perf_counter_ns(), ok):
            break
    return window.result()


def _sleep_until(barrier: Any) -> None:
    """Wait until every client of the run has warmed up."""
    barrier.wait(120)


# --- A: the floor ----------------------------------------------------------------------------


def _floor(spec: Spec) -> dict[str, Any]:
    import psycopg

    sql, params, pos = spec["sql"], list(spec["params"]), spec["sku_pos"]
    with psycopg.connect(spec["dsn"], autocommit=True) as conn:
        conn.execute(f"SET search_path = {spec['schema']}, public")

        def call(i: int) -> bool:
            params[pos] = _sku(spec, i)
            return conn.execute(sql, params).fetchone() is not None

        return _timed(spec, call)


# --- V: the write floor ----------------------------------------------------------------------


def _write_floor(spec: Spec) -> dict[str, Any]:
    """G's transaction on an open connection: a receipt or a transfer of the hot SKU, alternately,
    each statement as movement_record sends it, with a fresh idempotency key per call."""
    import psycopg

    with psycopg.connect(spec["dsn"]) as conn:
        conn.execute(f"SET search_path = {spec['schema']}, public")
        conn.commit()

        def call(i: int) -> bool:
            kind = "receipt" if i % 2 == 0 else "transfer"
            marker = f"{spec['key']}-{kind}"
            fresh = f"{marker}-{uuid.uuid4().hex}"  # warm-up and timed calls share i
            for sql, params in spec[kind]:
                if isinstance(params, dict):
                    conn.execute(sql, {k: fresh if v == marker else v for k, v in params.items()})
                else:
                    conn.execute(sql, [fresh if p == marker else p for p in params])
            conn.commit()
            return True

        return _timed(spec, call)


# --- B: the selector in process --------------------------------------------------------------


def _inproc(spec: Spec) -> dict[str, Any]:
    from django_tenants.utils import schema_context

    from inventory.selectors import stock_snapshot

    schema = spec["schema"]

    def call(i: int) -> bool:
        with schema_context(schema):
            return stock_snapshot(sku=_sku(spec, i))["found"]

    return _timed(spec, call)


# --- C: REST over HTTP keep-alive ------------------------------------------------------------


def _rest(spec: Spec) -> dict[str, Any]:
    import httpx

    headers = {"Host": spec["host"]}
    if spec.get("token"):
        headers["Authorization"] = f"Bearer {spec['token']}"
    with httpx.Client(base_url=spec["url"], headers=headers, timeout=30, trust_env=False) as http:
        path = spec.get("path", "/api/v1/stock/{sku}")

        def call(i: int) -> bool:
            response = http.get(path.format(sku=_sku(spec, i)))
            return response.status_code == 200 and response.json()["found"]

        return _timed(spec, call)


# --- D, E, F: MCP tools/call check_stock through the SDK client ------------------------------


async def _mcp(spec: Spec) -> dict[str, Any]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Host": spec["host"]} if spec.get("host") else {}
    if spec.get("token"):
        headers["Authorization"] = f"Bearer {spec['token']}"
    http = httpx2.AsyncClient(headers=headers, timeout=30.0, trust_env=False)
    async with http, Client(streamable_http_client(spec["url"], http_client=http)) as client:

        async def call(i: int) -> bool:
            result = await client.call_tool("check_stock", {"sku": _sku(spec, i)})
            return not result.is_error and bool((result.structured_content or {}).get("found"))

        return await _timed_async(spec, call)


async def _timed_async(spec: Spec, call: Callable[[int], Awaitable[bool]]) -> dict[str, Any]:
    for i in range(spec["warmup"]):
        await call(i)
    await asyncio.to_thread(_sleep_until, spec["barrier"])
    window = _Window(spec)
    for i in range(spec["max_requests"]):
        t0 = time.perf_counter_ns()
        ok = await call(i)
        if window.record(t0, time.perf_counter_ns(), ok):
            break
    return window.result()


# --- G: writes to one hot SKU ----------------------------------------------------------------


def _write(spec: Spec) -> dict[str, Any]:
    """Alternate a receipt into A and a transfer A->B of 1 unit of the hot SKU, over REST."""
    import httpx

    headers = {"Host": spec["host"], "Authorization": f"Bearer {spec['token']}"}
    a, b = spec["locations"]
    done = {"receipt": 0, "transfer": 0}
    with httpx.Client(base_url=spec["url"], headers=headers, timeout=30, trust_env=False) as http:

        def call(i: int) -> bool:
            kind = "receipt" if i % 2 == 0 else "transfer"
            body = {"kind": kind, "sku": spec["sku"], "quantity": 1, "to_location": a}
            if kind == "transfer":
                body.update(from_location=a, to_location=b)
            key = f"bench-{spec['run']}-{spec['index']}-{i}"
            response = http.post("/api/v1/movements", json=body, headers={"Idempotency-Key": key})
            if response.status_code == 201:
                done[kind] += 1
                return True
            return False

        spec = {**spec, "warmup": 0}
        result = _timed(spec, call)
    return {**result, **done}
