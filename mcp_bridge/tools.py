"""The MCP tools. Thin: one core selector in the caller's tenant, shaped into the output model.

Every tool is read-only; `@mcp_tool` (mcp_bridge.tooling) adds the guard (caller, validation,
tenant, "cannot be confirmed", audit) and registers it. Which of them a server exposes is decided
by MCP_TOOL_ALLOWLIST.
"""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from inventory.selectors import low_stock_rows, stock_answer
from inventory.validators import SKU_RULE, validate_sku
from mcp_bridge.tooling import mcp_tool


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


@mcp_tool(
    title="Check stock of one SKU",
    output=StockResult,
    subject="stock for {sku}",
    validate={"sku": validate_sku},
    outcome=lambda result: "found" if result.found else "not_found",
)
def check_stock(
    sku: Annotated[str, Field(description=f"The item's SKU; {SKU_RULE}.")],
) -> StockResult:
    """Current stock of one SKU in your inventory: the on-hand total and the next restock date.

    Returns {sku, found, quantity, restock_date}. `found: false` means no item with this SKU
    exists: say so and do not guess or estimate a quantity. `found: true` gives the confirmed
    on-hand `quantity` (0 means out of stock) and `restock_date`, the earliest expected restock
    (YYYY-MM-DD) or null. An error result means the stock cannot be confirmed right now: report
    that, and never turn it into a quantity or into "not found".
    """
    return StockResult.model_validate(stock_answer(sku=sku))


@mcp_tool(
    title="List items at or below their reorder point",
    output=LowStockResult,
    subject="the low-stock list",
)
def list_low_stock(
    limit: Annotated[int, Field(ge=1, le=100, description="Most items to return.")] = 25,
) -> LowStockResult:
    """Active items whose on-hand total is at or below their reorder point, by SKU.

    Read-only. Each item gives its confirmed on-hand `quantity`, `reorder_point` and next
    `restock_date` (YYYY-MM-DD or null). An error result means the list cannot be confirmed
    right now: report that instead of guessing.
    """
    rows = low_stock_rows(limit=limit + 1)
    items = [  # the tool's public names: quantity is on-hand, restock_date the next restock
        LowStockItem.model_validate(
            {
                "sku": r["sku"],
                "name": r["name"],
                "quantity": r["on_hand"],
                "reorder_point": r["reorder_point"],
                "restock_date": r["next_restock"],
            }
        )
        for r in rows[:limit]
    ]
    return LowStockResult(items=items, truncated=len(rows) > limit)
