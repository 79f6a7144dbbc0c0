"""The one MCPServer: the allowlisted tools, the instructions, and the per-call guard and audit."""

import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent

from mcp_bridge import tools  # noqa: F401 - registers the tools in TOOLS
from mcp_bridge.audit import CallRecord, audit_log, call_finished, call_started
from mcp_bridge.principal import BridgeState, Principal, principal_from
from mcp_bridge.tooling import READ_ONLY, TOOLS
from ops.metrics import count_tool_call

SERVER_NAME = "tenant-inventory"
# Request methods of features this server does not have: not served, so not advertised either
# (the SDK derives `capabilities` from the handlers present).
_UNSERVED = (
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
)


def server_version() -> str:
    """The installed package's version (serverInfo.version)."""
    try:
        return version("tenant-inventory")
    except PackageNotFoundError:
        return "0+unknown"


INSTRUCTIONS = """\
Inventory of one tenant: the tenant is fixed by the credential this connection uses, so every
answer is about that tenant's stock only.

Use check_stock(sku) to answer "how many X are in stock / when is X restocked".
- found: false means the SKU does not exist in this inventory. Say so; never guess a quantity.
- found: true gives the confirmed on-hand quantity and the next restock date (or null).
- An error result means the stock cannot be confirmed right now (for example the inventory
  database is unavailable). Report exactly that; do not turn it into a number or into "not found".
- An "invalid SKU" error states the SKU rule; correct the SKU rather than retrying it unchanged.
"""


def build_server(
    *, allowlist: Iterable[str], fixed_principal: Principal | None = None
) -> MCPServer[BridgeState]:
    """An MCPServer exposing exactly the allowlisted tools.

    A tool that is not allowlisted is not registered, so it is neither listed nor callable.
    `fixed_principal` is for stdio, where the operator chose the tenant; over HTTP the caller is
    whoever the gate authenticated for that request.
    """
    names = list(dict.fromkeys(allowlist))
    unknown = sorted(set(names) - TOOLS.keys())
    if unknown:
        raise ImproperlyConfigured(
            f"MCP_TOOL_ALLOWLIST names unknown tools {unknown}; known: {sorted(TOOLS)}"
        )

    @asynccontextmanager
    async def lifespan(_: MCPServer[BridgeState]) -> AsyncIterator[BridgeState]:
        yield BridgeState(fixed_principal=fixed_principal)

    server: MCPServer[BridgeState] = MCPServer(
        SERVER_NAME,
        title="Tenant inventory",
        version=server_version(),
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        middleware=[tool_call_guard(frozenset(names))],
    )
    _drop_unserved(server)
    for name in names:
        spec = TOOLS[name]
        server.add_tool(
            spec.fn,
            name=name,
            title=spec.title,
            description=spec.description,
            annotations=READ_ONLY,
            structured_output=True,
        )
    return server


def _drop_unserved(server: MCPServer[BridgeState]) -> None:
    # MCPServer registers prompt and resource handlers unconditionally; the low-level server has
    # no public way to remove one, so the entries go from its handler table.
    handlers = server._lowlevel_server._request_handlers  # noqa: SLF001
    for method in _UNSERVED:
        handlers.pop(method, None)


def tool_call_guard(known: frozenset[str]) -> Any:
    """The middleware around every tools/call: refuse a `_meta.tenant` that is not the caller's,
    and audit the call (a tool outside `known` as `unknown_tool`, whatever the SDK answers)."""

    async def guard(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        return await _guarded_call(ctx, call_next, known)

    return guard


async def _guarded_call(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext, known: frozenset[str]
) -> HandlerResult:
    params: Mapping[str, Any] = ctx.params or {}
    principal = principal_from(ctx)
    record = CallRecord(tool=str(params.get("name", ""))[:80], sku=_sku_argument(params))
    started = time.perf_counter()
    token = call_started(record)
    try:
        if principal is None:
            record.outcome = "unauthenticated"
            return _refusal("not authenticated: no tenant for this call")
        if params.get("name") not in known:
            record.outcome = "unknown_tool"  # the SDK still answers it, as the protocol says
        claimed = _meta_tenant(params)
        if claimed is not None and claimed != principal.schema_name:
            record.outcome = "refused_tenant_mismatch"
            return _refusal(
                "refused: _meta.tenant does not match the tenant of this credential. The "
                "credential decides the tenant; retry without _meta.tenant or with its own tenant."
            )
        result = await call_next(ctx)
        if record.outcome == "ok" and getattr(result, "is_error", False):
            record.outcome = "error"
        return result
    except Exception:
        if record.outcome == "ok":
            record.outcome = "error"
        raise
    finally:
        call_finished(token)
        audit_log(principal, record, (time.perf_counter() - started) * 1000)
        count_tool_call(record.tool, record.outcome, known=TOOLS)


def _sku_argument(params: Mapping[str, Any]) -> str | None:
    arguments = params.get("arguments")
    sku = arguments.get("sku") if isinstance(arguments, Mapping) else None
    return sku[:80] if isinstance(sku, str) else None


def _meta_tenant(params: Mapping[str, Any]) -> str | None:
    meta = params.get("_meta")
    value = meta.get("tenant") if isinstance(meta, Mapping) else None
    return None if value is None else str(value)


def _refusal(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
