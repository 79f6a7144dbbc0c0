"""manage.py check_stock --tenant <schema> <sku>: the stock selector's answer as JSON."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError

from inventory.selectors import stock_answer
from inventory.validators import validate_sku
from tenancy.commands import TenantCommand
from tenancy.models import Tenant


class Command(TenantCommand):
    help = "Print what is in stock for one SKU in one tenant, as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sku")
        parser.add_argument(
            "--locations", action="store_true", help="add the per-location breakdown"
        )

    def handle_tenant(self, tenant: Tenant, **opts: Any) -> None:
        sku = str(opts["sku"])
        try:
            validate_sku(sku)
        except ValidationError as exc:
            raise CommandError(exc.messages[0], returncode=2) from exc
        try:
            result = dict(stock_answer(sku=sku, by_location=opts["locations"]))
        except DatabaseError as exc:
            raise CommandError(
                f"stock for {sku} cannot be confirmed right now ({exc.__class__.__name__})"
            ) from exc
        self.stdout.write(json.dumps(result))
