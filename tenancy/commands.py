"""TenantCommand: the base of every management command that acts for one tenant.

It adds `--tenant <schema>`, resolves it once to an active tenant, and on an unknown one exits 2
with one line (the project's rule for bad command input). With `enter_schema` (the default) the
command's `handle_tenant` runs inside the tenant's schema; commands that work on public-schema
rows of the tenant (tokens, the stdio server) set it to False.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tenancy.selectors import tenant_get


class TenantCommand(BaseCommand):
    enter_schema = True

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("--tenant", required=True, help="the tenant's schema name")
        return parser

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_from_option(str(options.pop("tenant")))
        if not self.enter_schema:
            self.handle_tenant(tenant, **options)
            return
        with tenant_context(tenant):
            self.handle_tenant(tenant, **options)

    def handle_tenant(self, tenant: Tenant, **options: Any) -> None:
        """The command's work for `tenant` (inside its schema when `enter_schema`)."""
        raise NotImplementedError("a TenantCommand implements handle_tenant()")


def tenant_from_option(schema_name: str) -> Tenant:
    """The active tenant named `schema_name`, or a CommandError exiting 2."""
    tenant = tenant_get(schema_name=schema_name)
    if tenant is None:
        raise CommandError(
            f"unknown tenant {schema_name!r}: no active tenant has this schema name", returncode=2
        )
    return tenant
