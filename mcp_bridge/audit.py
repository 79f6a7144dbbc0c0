"""One audit line per tool call: tenant, token name, tool, SKU, outcome, latency. Never the token."""

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from mcp_bridge.principal import Principal

logger = logging.getLogger("mcp_bridge.audit")


@dataclass
class CallRecord:
    """What the audit line says about one call; tools fill in `sku` and `outcome`."""

    tool: str
    sku: str | None = None
    outcome: str = "ok"


_current: ContextVar[CallRecord | None] = ContextVar("mcp_bridge_call", default=None)


def call_started(record: CallRecord) -> object:
    """Make `record` the current call's record (the context is copied into worker threads)."""
    return _current.set(record)


def call_finished(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def note(*, sku: str | None = None, outcome: str | None = None) -> None:
    """Record the SKU and/or outcome of the current tool call, if one is being audited."""
    record = _current.get()
    if record is None:
        return
    if sku is not None:
        record.sku = sku[:80]  # caller-supplied: bounded, and logged with %r (one line)
    if outcome is not None:
        record.outcome = outcome


def audit_log(principal: Principal | None, record: CallRecord, latency_ms: float) -> None:
    """Emit the audit line, as text and as structured `extra` fields for LOG_FORMAT=json."""
    tenant = principal.schema_name if principal else "-"
    token_name = principal.credential_name if principal else "-"
    logger.info(
        "mcp call tenant=%s token_name=%r tool=%r sku=%r outcome=%s latency_ms=%.1f",
        tenant,
        token_name,
        record.tool,
        record.sku,
        record.outcome,
        latency_ms,
        extra={
            "mcp_tenant": tenant,
            "mcp_token_name": token_name,
            "mcp_tool": record.tool,
            "mcp_sku": record.sku,
            "mcp_outcome": record.outcome,
            "mcp_latency_ms": round(latency_ms, 1),
        },
    )
