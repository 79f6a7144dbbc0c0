"""Prometheus metrics: what is counted where, and the /metrics exposition.

- ``http_request_duration_seconds{method,route,status}``: every HTTP request, timed by the ASGI
  layer; ``route`` is Django's URL pattern (``api/v1/stock/<str:sku>``), ``/mcp``, or
  ``unmatched``, so paths carrying SKUs never become label values.
- ``mcp_tool_calls_total{tool,outcome}``: counted by the MCP audit (``count_tool_call``).
- ``rest_errors_total{status,code}``: every REST API response of 400 or more, by error code.
- ``tunnel_up``, ``tunnel_reconnects_total``, ``tunnel_backoff_seconds`` (label ``tunnel``):
  read from the stored tunnel status at scrape time by the collector the tunnel worker registers
  (``register_state_collector``), so they are right whichever process runs the tunnel.
- ``celery_queue_length{queue}``: Redis LLEN of each Celery queue, at scrape time.

With several worker processes (gunicorn), set PROMETHEUS_MULTIPROC_DIR to an empty directory
before they start: the per-process counters are then summed at scrape time (see
ops.gunicorn_conf, which also removes a dead worker's files).

ops imports no app: apps count through the functions here and register their scrape-time
collectors from AppConfig.ready().
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator

import redis
from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ops.conf import ops_settings

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route, method and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MCP_TOOL_CALLS = Counter(
    "mcp_tool_calls", "MCP tool calls by tool and outcome.", ["tool", "outcome"]
)
REST_ERRORS = Counter(
    "rest_errors", "REST API error responses by status and code.", ["status", "code"]
)

_LABEL_RE = re.compile(r"[a-z0-9_]{1,40}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Celery's Redis transport keeps prioritised messages in extra lists named <queue>\x06\x16<n>.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def label(value: object, allowed: Iterable[str] | None = None) -> str:
    """A bounded label value: caller-supplied text never grows the series count."""
    text = str(value or "").lower()
    if allowed is not None:
        return text if text in allowed else "other"
    return text if _LABEL_RE.fullmatch(text) else "other"


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    REQUEST_LATENCY.labels(method, route, str(status)).observe(seconds)


def count_rest_error(status: int, code: object) -> None:
    REST_ERRORS.labels(str(status), label(code)).inc()


def count_tool_call(tool: str, outcome: str, *, known: Iterable[str]) -> None:
    """Count one MCP tool call; a tool name outside `known` is counted as "other"."""
    MCP_TOOL_CALLS.labels(label(tool, known), label(outcome)).inc()


_state_collectors: list[Collector] = []


def register_state_collector(collector: Collector) -> None:
    """Add a scrape-time collector of shared state (AppConfig.ready(); once per process)."""
    if not any(type(c) is type(collector) for c in _state_collectors):
        _state_collectors.append(collector)


class StateCollector(Collector):
    """Scrape-time series read from shared state: the registered collectors and queue lengths."""

    def collect(self) -> Iterator[Metric]:
        for collector in _state_collectors:
            yield from collector.collect()
        yield from self._queues()

    def _queues(self) -> Iterator[Metric]:
        url = str(settings.CELERY_BROKER_URL)
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return
        family = GaugeMetricFamily(
            "celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            with client.pipeline(transaction=False) as pipe:
                queues = ops_settings().METRICS_QUEUES
                for queue in queues:
                    for suffix in _PRIORITY_SUFFIXES:
                        pipe.llen(queue + suffix)
                lengths = pipe.execute()
        except redis.RedisError as exc:
            logger.warning("metrics: queue lengths unavailable: %s", type(exc).__name__)
            return
        finally:
            client.close()
        step = len(_PRIORITY_SUFFIXES)
        for i, queue in enumerate(queues):
            family.add_metric([queue], float(sum(lengths[i * step : (i + 1) * step])))
        yield family


def render() -> tuple[bytes, str]:
    """(body, content type) of one scrape; sums all processes' files in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessLocal())
    registry.register(StateCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ProcessLocal(Collector):
    """This process's own metrics (default registry), when not in multiprocess mode."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
