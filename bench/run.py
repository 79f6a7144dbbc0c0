"""`make bench`: check_stock and stock writes measured against the floor and the reference design.

One run on one machine. Client processes (a pool, separate from every server) drive:
A floor SQL, B selector in process, C REST, D MCP, E MCP through the SSH tunnel, F the
reference design, G writes to one hot SKU, H tenant scale, I memory. The report goes to
bench/results/latest.md (quick mode: bench/results/quick.md, not committed) and stdout.

    python -m devtools.embedded -- python -m bench.run [--quick]
    python -m devtools.embedded -- python -m bench.run --scale 10000   (bench/scale.py)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bench.servers import Proc

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Mode:
    name: str
    items: int
    duration: float  # seconds per timed run
    max_requests: int  # per client per run
    warmup: int
    tenants: int  # for H
    provision_samples: int
    out: Path


FULL = Mode("full", 500, 5.0, 20_000, 30, 1000, 3, RESULTS / "latest.md")
QUICK = Mode("quick", 100, 1.0, 2_000, 5, 50, 1, RESULTS / "quick.md")


@dataclass
class Run:
    label: str
    clients: int
    latencies_ns: list[int]
    errors: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ns)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q / 100 * len(data)))] / 1e6

    @property
    def throughput(self) -> float:
        calls = self.extra.get("in_window", len(self.latencies_ns))
        return calls / self.seconds if self.seconds > 0 else float("nan")


class Bench:
    def __init__(self, mode: Mode, env: dict[str, str], pool: Any, manager: Any) -> None:
        self.mode, self.env, self.pool, self.manager = mode, env, pool, manager
        self.runs: dict[tuple[str, int], Run] = {}

    def measure(self, key: str, label: str, clients: int, spec: dict[str, Any]) -> Run:
        barrier = self.manager.Barrier(clients)  # released once every client has warmed up
        specs = [
            {
                "warmup": self.mode.warmup,
                "duration": self.mode.duration,
                "max_requests": self.mode.max_requests,
                **spec,
                "index": i,
                "barrier": barrier,
            }
            for i in range(clients)
        ]
        results = self.pool.map(_client, specs, chunksize=1)
        # Throughput over the window in which every client was running: from the last start to
        # the first client's last call, counting the calls that finished inside it.
        begin = max(r["started"] for r in results)
        end = min(r["ends"][-1] for r in results)
        in_window = sum(begin <= t <= end for r in results for t in r["ends"])
        run = Run(
            label=label,
            clients=clients,
            latencies_ns=[x for r in results for x in r["latencies"]],
            errors=sum(r["errors"] for r in results),
            seconds=end - begin,
            extra={
                "in_window": in_window,
                **{k: sum(r.get(k, 0) for r in results) for k in ("receipt", "transfer")},
            },
        )
        self.runs[(key, clients)] = run
        print(
            f"[bench] {key} x{clients}: p50 {run.pct(50):.2f} ms  p99 {run.pct(99):.2f} ms  "
            f"{run.throughput:.0f}/s  errors {run.errors}",
            file=sys.stderr,
            flush=True,
        )
        return run


def _client(spec: dict[str, Any]) -> dict[str, Any]:
    from bench.clients import run_client

    return run_client(spec)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts, 50 tenants (CI)")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database")
    parser.add_argument("--scale", type=int, default=0, help="only the N-tenant scenario")
    args = parser.parse_args(argv)
    if args.scale:  # opt-in, long: bench/scale.py writes bench/results/scale-N.md itself
        from bench.scale import execute as execute_scale

        print(execute_scale(args.scale, keep_db=args.keep_db).read_text())
        return 0
    mode = QUICK if args.quick else FULL
    from bench.driver import execute

    began = time.monotonic()
    report = execute(mode, keep_db=args.keep_db)
    report += f"\nWall time of this run: {time.monotonic() - began:.0f} s.\n"
    mode.out.parent.mkdir(parents=True, exist_ok=True)
    mode.out.write_text(report)
    print(report)
    print(f"[bench] written to {mode.out.relative_to(ROOT)}", file=sys.stderr)
    return 0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def make_pool(env: dict[str, str], size: int) -> tuple[Any, Any]:
    """The client processes (spawned: nothing inherited from the orchestrator) and a manager
    whose barriers start each run's clients together."""
    from bench.clients import init_worker

    ctx = multiprocessing.get_context("spawn")
    return ctx.Pool(size, initializer=init_worker, initargs=(env,)), ctx.Manager()


def release(
    pool: Any, manager: Any, procs: list[Proc], *, base: str, drop: Iterable[str] = ()
) -> None:
    """What a run owes in its `finally`: the client pool and its manager gone, the servers
    stopped (the last started first), Django's connections closed and the `drop` databases
    dropped (none when the run keeps them for a look)."""
    from django.db import connections

    from bench import fixtures

    if pool is not None:
        pool.terminate()
        pool.join()
    if manager is not None:
        manager.shutdown()
    for proc in reversed(procs):
        proc.stop()
    connections.close_all()
    for name in drop:
        fixtures.recreate_database(base, name, drop_only=True)


def tempdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="inventory-bench-"))


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
