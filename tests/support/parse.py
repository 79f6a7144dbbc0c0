"""Reading what the service wrote: JSON log lines, Prometheus samples."""

from __future__ import annotations

import contextlib
import json
from typing import Any


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among a log's lines (other lines are ignored)."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
    return found


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of the first sample `name{labels...}` in a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        base, _, rest = series.partition("{")
        if base != name:
            continue
        if all(f'{k}="{v}"' in rest for k, v in labels.items()):
            return float(value)
    return None
