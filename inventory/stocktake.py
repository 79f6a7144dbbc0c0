"""Stocktake import: parse a CSV completely and validate every row before anything is written."""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import transaction

from inventory import services
from inventory.models import Item, Location, StockLevel
from inventory.validators import validate_sku

COLUMNS = ("sku", "name", "location", "quantity")


class StocktakeError(Exception):
    """A row (by its line number in the file) that makes the whole file unusable."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line, self.reason = line, reason


@dataclass(frozen=True)
class StocktakeRow:
    line: int
    sku: str
    name: str
    location: str
    quantity: int


@dataclass(frozen=True)
class StocktakeResult:
    rows: int
    items_created: int
    locations_created: int
    movements: int


def _parse_row(line: int, raw: dict[str, str | None]) -> StocktakeRow:
    values = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    try:
        validate_sku(values["sku"])
    except ValidationError as exc:
        raise StocktakeError(line, exc.messages[0]) from exc
    if not values["location"] or len(values["location"]) > 32:
        raise StocktakeError(line, "location must be 1-32 characters")
    if len(values["name"]) > 200:
        raise StocktakeError(line, "name must be at most 200 characters")
    if not values["quantity"].isdigit():
        raise StocktakeError(
            line, f"quantity must be a whole number 0 or more, got {values['quantity']!r}"
        )
    return StocktakeRow(
        line, values["sku"], values["name"], values["location"], int(values["quantity"])
    )


def stocktake_parse(stream: TextIO) -> list[StocktakeRow]:
    """Every row of a `sku,name,location,quantity` CSV, or StocktakeError for the first bad one."""
    reader = csv.DictReader(stream)
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != list(COLUMNS):
        raise StocktakeError(1, f"the header must be exactly {','.join(COLUMNS)}")
    rows: list[StocktakeRow] = []
    seen: dict[tuple[str, str], int] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw:
            raise StocktakeError(line, "too many columns")
        row = _parse_row(line, raw)
        if (row.sku, row.location) in seen:
            raise StocktakeError(
                line,
                f"{row.sku} at {row.location} already counted on line {seen[(row.sku, row.location)]}",
            )
        seen[(row.sku, row.location)] = line
        rows.append(row)
    return rows


@dataclass(frozen=True)
class PreviewRow:
    """What applying one row would do: on-hand now (None: nothing recorded yet) and after."""

    line: int
    sku: str
    location: str
    on_hand: int | None
    counted: int
    new_item: bool
    new_location: bool

    @property
    def change(self) -> int:
        return self.counted - (self.on_hand or 0)


def _require_name(row: StocktakeRow) -> None:
    if not row.name:
        raise StocktakeError(row.line, f"{row.sku} is a new item and needs a name")


def stocktake_preview(rows: list[StocktakeRow]) -> list[PreviewRow]:
    """What stocktake_import would change, row by row, without writing anything.
    Raises StocktakeError for a row the import would refuse."""
    skus, codes = {r.sku for r in rows}, {r.location for r in rows}
    known_items = set(Item.objects.filter(sku__in=skus).values_list("sku", flat=True))
    known_locations = set(Location.objects.filter(code__in=codes).values_list("code", flat=True))
    levels = {
        (sku, code): on_hand
        for sku, code, on_hand in StockLevel.objects.filter(
            item__sku__in=skus, location__code__in=codes
        ).values_list("item__sku", "location__code", "on_hand")
    }
    preview = []
    for row in rows:
        if row.sku not in known_items:
            _require_name(row)
        preview.append(
            PreviewRow(
                line=row.line,
                sku=row.sku,
                location=row.location,
                on_hand=levels.get((row.sku, row.location)),
                counted=row.quantity,
                new_item=row.sku not in known_items,
                new_location=row.location not in known_locations,
            )
        )
    return preview


@transaction.atomic
def stocktake_import(
    *,
    rows: Iterable[StocktakeRow],
    actor: str,
    on_row: Callable[[], None] = lambda: None,
    reason: str = "stocktake",
) -> StocktakeResult:
    """Apply a parsed stocktake in one transaction: create missing items and locations, and
    record a count movement for each difference. Importing the same file again records nothing."""
    items_created = locations_created = movements = count = 0
    for row in rows:
        item = Item.objects.filter(sku=row.sku).first()
        if item is None:
            _require_name(row)
            item, items_created = (
                services.item_create(sku=row.sku, name=row.name),
                items_created + 1,
            )
        location = Location.objects.filter(code=row.location).first()
        if location is None:
            location = services.location_create(code=row.location, name=row.location)
            locations_created += 1
        if services.stock_count(
            item=item, location=location, counted=row.quantity, actor=actor, reason=reason
        ):
            movements += 1
        count += 1
        on_row()
    return StocktakeResult(count, items_created, locations_created, movements)
