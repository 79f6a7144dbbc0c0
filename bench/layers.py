"""Where each millisecond of one call goes: py-spy samples of the web process, sorted into layers.

While one client makes calls one after the other (D: MCP check_stock, C: REST stock read),
py-spy samples every thread of the web process, idle ones included (`--idle`), so time spent
waiting on PostgreSQL or Redis counts as well as CPU time. Each sample is given to the layer of
its innermost frame that belongs to one (a psycopg frame inside the auth lookup counts as SQL);
samples of a thread that is only waiting for work (the event loop in select(), an idle pool
thread, the invalidation listener) are dropped. py-spy takes fewer samples than asked for on a
busy machine, so a sample's worth is measured, not assumed: the main thread appears once per
sampling instant, and the instants share the sampled wall time. Milliseconds per call = a
layer's samples × (wall time / instants) / calls.

Sampling costs the server some time of its own, so the profiled calls are a little slower than
the unprofiled runs above; the split between layers is what the table is for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

RATE = 1000  # samples per second

# (layer, path fragments), checked in this order against each frame's file.
RULES: list[tuple[str, tuple[str, ...]]] = [
    ("logging", ("/logging/", "ops/logs.py", "ops/context.py", "mcp_bridge/audit.py", "jsonlog")),
    ("SQL", ("/psycopg/", "/django/db/")),
    ("limiter", ("tenancy/ratelimit.py", "inventory/api/throttling.py", "/redis/")),
    (
        "auth",
        (
            "mcp_bridge/auth.py",
            "tenancy/selectors.py",
            "inventory/api/authentication.py",
            "ops/invalidation.py",
            "/hashlib",
        ),
    ),
    (
        "tool",
        (
            "mcp_bridge/tools.py",
            "mcp_bridge/db.py",
            "inventory/selectors.py",
            "django_tenants/utils",
        ),
    ),
    ("gate", ("mcp_bridge/http.py", "mcp_bridge/asgi.py", "ops/limits.py", "ops/asgi.py")),
    ("SDK", ("/mcp/", "/starlette/", "/pydantic")),
    (
        "HTTP server, response",
        ("/rest_framework/renderers", "/django/http/response", "/uvicorn/", "/h11/"),
    ),
    ("view (DRF)", ("/rest_framework/", "inventory/api/")),
    (
        "Django stack",
        (
            "/django/core/handlers",
            "/django/middleware",
            "/django/contrib",
            "/django_tenants/",
            "tenancy/middleware.py",
            "ops/middleware.py",
            "ops/djangoasgi.py",
            "/whitenoise/",
            "/csp/",
            "/axes/",
            "/django/urls/",
            "/asgiref/",
        ),
    ),
    ("event loop, other", ()),
]
LAYERS = [name for name, _ in RULES]


def _frames(stack: str) -> list[tuple[str, str]]:
    """[(function, file)] from outermost to innermost, from one py-spy raw line's stack.

    py-spy names methods `Class.method`; only the method's name is kept."""
    frames = []
    for frame in stack.split(";"):
        name, _, rest = frame.partition(" (")
        frames.append((name.rsplit(".", 1)[-1], rest.rsplit(":", 1)[0]))
    return frames


_SERVING = tuple(fragment for _, fragments in RULES[:-1] for fragment in fragments)


def _idle(frames: list[tuple[str, str]]) -> bool:
    """A thread waiting for work rather than serving the call.

    The event loop's thread is idle while it waits in select(); any other thread (a pool's
    worker, psycopg_pool's maintenance, the invalidation listener, the limiter's flush thread
    between flushes) while none of its frames is in code that serves a request."""
    files = [f for _, f in frames]
    if any(f.endswith("ops/invalidation.py") for f in files) and any(
        n == "_listen" for n, _ in frames
    ):
        return True
    if any(f.endswith("tenancy/ratelimit.py") and n.endswith("_run") for n, f in frames):
        return not any(
            n.endswith("flush") for n, _ in frames
        )  # the limiter's pause between flushes
    if any(n == "_run_once" and f.endswith("base_events.py") for n, f in frames):
        inner_name, inner_file = frames[-1]
        return inner_file.endswith("selectors.py") or inner_name == "_run_once"
    return not any(fragment in f for f in files for fragment in _SERVING)


def classify(stack: str) -> str | None:
    """The layer of one sample, or None for a thread that was waiting for work."""
    frames = _frames(stack)
    if not frames or _idle(frames):
        return None
    for _, path in reversed(frames):
        for layer, fragments in RULES[:-1]:
            if any(fragment in path for fragment in fragments):
                return layer
    return RULES[-1][0]


# The outermost frame of the main thread (uvicorn run as `python -m uvicorn`, or as a script).
_MAIN_THREAD_ROOTS = ("_run_module_as_main (", "<module> (")


def parse(raw: str) -> tuple[Counter[str], int]:
    """Samples per layer, and the number of sampling instants (the main thread's samples)."""
    counts: Counter[str] = Counter()
    instants = 0
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        if stack.startswith(_MAIN_THREAD_ROOTS):
            instants += int(n)
        layer = classify(stack)
        if layer is not None:
            counts[layer] += int(n)
    return counts, instants


def profile(bench: Any, pid: int, key: str, label: str, spec: dict[str, Any]) -> dict[str, float]:
    """Milliseconds per call per layer for one client calling `spec` while py-spy samples `pid`."""
    out = Path(tempfile.mkstemp(prefix=f"bench-pyspy-{key}-", suffix=".txt")[1])
    spy = Path(sys.executable).with_name("py-spy")
    argv = [str(spy), "record", "--pid", str(pid), "--rate", str(RATE), "--idle"]
    argv += ["--nonblocking", "--full-filenames", "--format", "raw", "--output", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    began = time.monotonic()
    try:
        time.sleep(1.0)  # py-spy attaches
        if proc.poll() is not None:
            raise RuntimeError(f"py-spy failed: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
        run = bench.measure(f"profile-{key}", label, 1, spec)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
        sampled = time.monotonic() - began
        proc.wait(30)
    calls = len(run.latencies_ns) + spec.get("warmup", bench.mode.warmup)
    counts, instants = parse(out.read_text())
    out.unlink(missing_ok=True)
    ms_per_sample = sampled * 1000 / max(1, instants)
    per_call = {layer: counts[layer] * ms_per_sample / calls for layer in LAYERS}
    per_call["p50 of the profiled run"] = run.pct(50)
    return per_call
