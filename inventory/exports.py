"""Tables for export (items, the ledger, low-stock reports) and their CSV and XLSX files."""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook

from inventory.models import Item, LowStockReport, Movement

Cell = str | int | None

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Table:
    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]]


def _when(value: datetime | date | None) -> str | None:
    """A date as YYYY-MM-DD, a time as YYYY-MM-DD HH:MM:SS in the current (tenant's) zone."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def items_table(items: QuerySet[Item]) -> Table:
    """Items annotated by selectors.item_list_with_stock (on-hand, next restock)."""
    rows = (
        (i.sku, i.name, i.unit, i.on_hand, i.reorder_point, _when(i.next_restock), int(i.active))  # type: ignore[attr-defined]
        for i in items
    )
    headers = ("sku", "name", "unit", "on_hand", "reorder_point", "next_restock", "active")
    return Table("items", headers, rows)


def _code(location: Any) -> str | None:
    return location.code if location is not None else None


def ledger_table(movements: QuerySet[Movement]) -> Table:
    """Movements annotated by selectors.ledger_with_balance (signed change, balance)."""
    rows = (
        (
            m.pk,
            _when(m.created_at),
            m.kind,
            m.item.sku,
            m.delta,  # type: ignore[attr-defined]
            m.quantity,
            _code(m.from_location),
            _code(m.to_location),
            m.balance,  # type: ignore[attr-defined]
            m.reason,
            m.actor,
        )
        for m in movements
    )
    headers = (
        "id",
        "time",
        "kind",
        "sku",
        "change",
        "quantity",
        "from_location",
        "to_location",
        "balance",
        "reason",
        "actor",
    )
    return Table("ledger", headers, rows)


def low_stock_table(reports: QuerySet[LowStockReport]) -> Table:
    """One row per low item per report."""
    rows = (
        (
            report.pk,
            _when(report.created_at),
            r["sku"],
            r["name"],
            r["on_hand"],
            r["reorder_point"],
            r["next_restock"],
        )
        for report in reports
        for r in report.items
    )
    headers = ("report", "time", "sku", "name", "on_hand", "reorder_point", "next_restock")
    return Table("low-stock", headers, rows)


def _safe(cell: Cell) -> Cell:
    # A spreadsheet runs a cell starting with = + - @ as a formula: names and reasons are typed
    # by people, so such text is prefixed with ' (numbers stay numbers).
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.headers)
    writer.writerows([_safe(c) for c in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.name)
    sheet.append(list(table.headers))
    for row in table.rows:
        sheet.append([_safe(c) for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(table: Table, fmt: str) -> bytes:
    """The table as a file in `fmt` (a key of FORMATS)."""
    return to_xlsx(table) if fmt == "xlsx" else to_csv(table)
