"""The REST API's settings: the INVENTORY_API dict, typed (ops.conf.app_settings)."""

from dataclasses import dataclass
from typing import Any

from ops.conf import app_settings


@dataclass(frozen=True)
class ApiSettings:
    """base.py and docs/api.md say what each knob does."""

    RATE: str  # per token, shared with the MCP endpoint (tenancy.ratelimit)
    PAGE_SIZE: int
    MAX_PAGE_SIZE: int
    MAX_BODY_BYTES: int


def api_settings(**overrides: Any) -> ApiSettings:
    """The REST API settings, with optional overrides (tests)."""
    return app_settings(ApiSettings, "INVENTORY_API", **overrides)
