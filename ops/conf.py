"""One way for every app to read its settings, and the operations app's own.

Each app declares its settings as a frozen dataclass without defaults and reads them with
`app_settings(TheDataclass, "SETTING_NAME")`, which types the namespaced dict of that name in
config/settings/base.py. The defaults are written once, where base.py reads each value from the
environment, so they cannot drift apart from a second copy (issue 12: they had). Lists become
tuples and dicts tuples of pairs, so a settings object is hashable and cannot be changed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")


def app_settings(cls: type[T], name: str, **overrides: Any) -> T:
    """`cls` built from the Django setting `name` (a dict), with optional overrides (tests)."""
    raw: dict[str, Any] = {**getattr(settings, name), **overrides}
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: _frozen(v) for k, v in raw.items() if k in known})


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(value.items())
    return value


@dataclass(frozen=True)
class OpsSettings:
    """The OPERATIONS dict; base.py and docs/operations.md say what each knob does."""

    METRICS_TOKEN: str
    METRICS_ALLOW_FROM: tuple[str, ...]
    METRICS_REQUIRE_TOKEN: bool
    METRICS_QUEUES: tuple[str, ...]
    READYZ_TIMEOUT: float
    READYZ_MIGRATIONS_TTL: float
    LOW_STOCK_INTERVAL: float
    WEBHOOK_TIMEOUT: float
    WEBHOOK_MAX_RETRIES: int
    WEBHOOK_BACKOFF_MAX: int
    WEBHOOK_ALLOW_PRIVATE: bool
    WEBHOOK_PORTS: tuple[str, ...]
    DB_REQUEST_DEADLINE: float
    MAX_BODY_BYTES: int
    BODY_CAPS: tuple[tuple[str, int], ...]


def ops_settings(**overrides: Any) -> OpsSettings:
    """The operations settings, with optional overrides (tests)."""
    return app_settings(OpsSettings, "OPERATIONS", **overrides)
