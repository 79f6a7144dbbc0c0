"""manage.py check_stock --tenant <schema> <sku>: the stock selector's answer as JSON."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django_tenants.utils import tenant_context

from inventory.management.commands._tenant import add_tenant_argument, require_tenant
from inventory.selectors import stock_by_location, stock_snapshot
from inventory.validators import validate_sku


class Command(BaseCommand):
    help = "Print what is in stock for one SKU in one tenant, as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        add_tenant_argument(parser)
        parser.add_argument("sku")
        parser.add_argument(
            "--locations", action="store_true", help="add the per-location breakdown"
        )

    def handle(self, *args: object, **opts: object) -> None:
        sku = str(opts["sku"])
        try:
            validate_sku(sku)
        except ValidationError as exc:
            raise CommandError(exc.messages[0], returncode=2) from exc
        tenant = require_tenant(str(opts["tenant"]))
        try:
            with tenant_context(tenant):
                result: dict[str, object] = dict(stock_snapshot(sku=sku))
                if opts["locations"]:
                    result["locations"] = stock_by_location(sku=sku)
        except DatabaseError as exc:
            raise CommandError(
                f"stock for {sku} cannot be confirmed right now ({exc.__class__.__name__})"
            ) from exc
        self.stdout.write(json.dumps(result))
