"""What /readyz and /metrics learn about the tunnel, registered with ops by TunnelWorkerConfig.

Both read the stored tunnel status (tunnel_worker.selectors.tunnel_state), so they are right
whichever process runs the tunnel.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.db import connection
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ops.health import describe, skipped
from tunnel_worker.conf import Backend, tunnel_settings
from tunnel_worker.selectors import tunnel_state

logger = logging.getLogger(__name__)

READINESS_CHECK = "tunnel"


def readiness() -> dict[str, Any]:
    """The tunnel's readiness report; required only when TUNNEL_GATES_READINESS is on."""
    try:
        state = tunnel_state()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "required": True, "error": describe(exc)}
    finally:
        connection.close()  # this pool thread's ORM connection: don't keep it between probes
    return {
        "ok": bool(state["ready"]),
        "required": bool(state["gates_readiness"] and state["enabled"]),
        "name": state["name"],
        "backend": state["backend"],
        "state": state["state"],
        "up": state["up"],
        "stale": state["stale"],
        "source": state["source"],
        "reconnects": state["reconnects"],
        "backoff_seconds": state["backoff_seconds"],
    }


def readiness_unknown() -> dict[str, Any]:
    """Not checked (the database is down); still required when the tunnel gates readiness."""
    conf = tunnel_settings()
    return {**skipped(), "required": conf.GATES_READINESS and conf.BACKEND != Backend.OFF}


class TunnelCollector(Collector):
    """tunnel_up, tunnel_reconnects_total and tunnel_backoff_seconds, at scrape time."""

    def collect(self) -> Iterator[Metric]:
        try:
            state = tunnel_state()
        except Exception as exc:  # noqa: BLE001 - a scrape still returns the other series
            logger.warning("metrics: tunnel state unavailable: %s", type(exc).__name__)
            return
        finally:
            connection.close()
        name = [state["name"]]
        up = GaugeMetricFamily(
            "tunnel_up", "1 when the tunnel is connected with a fresh heartbeat.", labels=["tunnel"]
        )
        up.add_metric(name, 1.0 if state["up"] else 0.0)
        reconnects = CounterMetricFamily(
            "tunnel_reconnects",
            "Reconnections since the tunnel status was created.",
            labels=["tunnel"],
        )
        reconnects.add_metric(name, float(state["reconnects"]))
        backoff = GaugeMetricFamily(
            "tunnel_backoff_seconds",
            "Current reconnect backoff (0 when connected).",
            labels=["tunnel"],
        )
        backoff.add_metric(name, float(state["backoff_seconds"] or 0.0))
        yield from (up, reconnects, backoff)
