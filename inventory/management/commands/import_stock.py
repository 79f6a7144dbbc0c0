"""manage.py import_stock --tenant <schema> FILE.csv: apply a stocktake, all rows or none."""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.progress import Progress

from inventory.stocktake import StocktakeError, stocktake_import, stocktake_parse
from tenancy.commands import TenantCommand
from tenancy.models import Tenant


class Command(TenantCommand):
    help = "Import a stocktake CSV (sku,name,location,quantity). A bad row fails the whole file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle_tenant(self, tenant: Tenant, **opts: Any) -> None:
        path = Path(str(opts["file"]))
        try:
            with path.open(newline="", encoding="utf-8") as stream:
                rows = stocktake_parse(stream)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}", returncode=2) from exc
        except StocktakeError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported", returncode=2) from exc
        with Progress(console=Console(stderr=True)) as progress:
            task = progress.add_task(f"importing {path.name}", total=len(rows))
            try:
                result = stocktake_import(
                    rows=rows,
                    actor=f"command:import_stock:{path.name}",
                    on_row=lambda: progress.advance(task),
                )
            except StocktakeError as exc:
                raise CommandError(f"{path}: {exc}; nothing was imported", returncode=2) from exc
        self.stdout.write(
            f"imported {result.rows} rows: {result.items_created} new items, "
            f"{result.locations_created} new locations, {result.movements} count movements"
        )
