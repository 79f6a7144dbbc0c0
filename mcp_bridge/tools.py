"""The MCP tools. Thin: parse the input, call one core selector in the caller's tenant, shape it.

Every tool is read-only. Which of them a server exposes is decided by MCP_TOOL_ALLOWLIST.
"""

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from inventory.selectors import low_stock_items, stock_snapshot
from inventory.validators import SKU_RULE, validate_sku
from mcp_bridge.audit import note
from mcp_bridge.db import describe_db_error, tenant_db
from mcp_bridge.principal import Principal, principal_from

logger = logging.getLogger(__name__)

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class StockResult(BaseModel):
    """The structured result of check_stock (its declared output schema)."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(description="The SKU that was asked for.")
    found: bool = Field(description="False: no item has this SKU. Do not guess a quantity.")
    quantity: int | None = Field(
        description="Confirmed on-hand total across all locations; null when not found."
    )
    restock_date: date | None = Field(
        description="Earliest open restock expected today or later (YYYY-MM-DD), or null."
    )


class LowStockItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str
    name: str
    quantity: int = Field(description="On-hand total across all locations.")
    reorder_point: int
    restock_date: date | None = Field(description="Next open restock (YYYY-MM-DD), or null.")


class LowStockResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[LowStockItem]
    truncated: bool = Field(description="True when more items are low than were returned.")


# Tools return a CallToolResult themselves so that an error's text is exactly what the model
# should read (the SDK would prefix a raised ToolError); `Annotated[CallToolResult, Model]`
# still declares Model as the output schema, and the SDK validates successful results against it.


def _ok(result: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=result.model_dump_json())],
        structured_content=result.model_dump(mode="json"),
    )


def _error(text: str, outcome: str) -> CallToolResult:
    note(outcome=outcome)
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _cannot_confirm(subject: str, reason: str) -> CallToolResult:
    return _error(
        f"{subject} cannot be confirmed right now ({reason}). "
        "Do not state a quantity or that the item does not exist; try again later.",
        outcome="unavailable",
    )


def _caller(ctx: Context) -> Principal | None:
    # The HTTP gate and mcp_stdio always provide one; fail closed anyway.
    return principal_from(ctx.request_context)


_NO_TENANT = "not authenticated: no tenant for this call"


def check_stock(
    sku: Annotated[str, Field(description=f"The item's SKU; {SKU_RULE}.")],
    ctx: Context,
) -> Annotated[CallToolResult, StockResult]:
    """Current stock of one SKU in your inventory: the on-hand total and the next restock date.

    Returns {sku, found, quantity, restock_date}. `found: false` means no item with this SKU
    exists: say so and do not guess or estimate a quantity. `found: true` gives the confirmed
    on-hand `quantity` (0 means out of stock) and `restock_date`, the earliest expected restock
    (YYYY-MM-DD) or null. An error result means the stock cannot be confirmed right now: report
    that, and never turn it into a quantity or into "not found".
    """
    principal = _caller(ctx)
    if principal is None:
        return _error(_NO_TENANT, outcome="unauthenticated")
    try:
        validate_sku(sku)  # before any database access: invalid input makes no query
    except ValidationError as exc:
        return _error(f"{exc.messages[0]} (got {sku[:80]!r})", outcome="invalid_sku")
    try:
        with tenant_db(principal):
            snapshot = stock_snapshot(sku=sku)
    except DatabaseError as exc:
        return _cannot_confirm(f"stock for {sku}", describe_db_error(exc))
    except Exception:
        logger.exception("check_stock failed for tenant %s", principal.schema_name)
        return _cannot_confirm(f"stock for {sku}", "internal error")
    note(outcome="found" if snapshot["found"] else "not_found")
    return _ok(StockResult.model_validate(snapshot))


def list_low_stock(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=100, description="Most items to return.")] = 25,
) -> Annotated[CallToolResult, LowStockResult]:
    """Active items whose on-hand total is at or below their reorder point, by SKU.

    Read-only. Each item gives its confirmed on-hand `quantity`, `reorder_point` and next
    `restock_date` (YYYY-MM-DD or null). An error result means the list cannot be confirmed
    right now: report that instead of guessing.
    """
    principal = _caller(ctx)
    if principal is None:
        return _error(_NO_TENANT, outcome="unauthenticated")
    fields = ("sku", "name", "on_hand", "reorder_point", "next_restock")
    try:
        with tenant_db(principal):
            rows = list(low_stock_items().order_by("sku").values(*fields)[: limit + 1])
    except DatabaseError as exc:
        return _cannot_confirm("the low-stock list", describe_db_error(exc))
    note(outcome="ok")
    items = [
        LowStockItem(
            sku=r["sku"],
            name=r["name"],
            quantity=r["on_hand"],
            reorder_point=r["reorder_point"],
            restock_date=r["next_restock"],
        )
        for r in rows[:limit]
    ]
    return _ok(LowStockResult(items=items, truncated=len(rows) > limit))


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Any]
    title: str

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "")


# Every tool this service can expose; MCP_TOOL_ALLOWLIST picks which ones a server registers.
TOOLS: dict[str, ToolSpec] = {
    "check_stock": ToolSpec(check_stock, "Check stock of one SKU"),
    "list_low_stock": ToolSpec(list_low_stock, "List items at or below their reorder point"),
}
