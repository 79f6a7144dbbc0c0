"""manage.py provision_tenant <schema> --domain <host> [--name ...]"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenancy.services import ProvisioningError, tenant_provision


class Command(BaseCommand):
    help = "Create a tenant: its schema, tables and domain, in one step. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema")
        parser.add_argument("--domain", required=True)
        parser.add_argument("--name", default="")

    def handle(self, *args: object, **opts: str) -> None:
        started = time.perf_counter()
        try:
            result = tenant_provision(
                schema_name=opts["schema"], domain=opts["domain"], name=opts["name"]
            )
        except ValidationError as exc:
            raise CommandError(exc.messages[0], returncode=2) from exc
        except ProvisioningError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        elapsed = time.perf_counter() - started
        if result.created:
            self.stdout.write(f"created tenant {result.tenant.schema_name} in {elapsed:.2f}s")
        elif result.domain_added:
            self.stdout.write(
                f"tenant {result.tenant.schema_name} exists; added domain {opts['domain']}"
            )
        else:
            self.stdout.write(
                f"tenant {result.tenant.schema_name} already provisioned; nothing changed"
            )
