"""Shared option handling for commands that act inside one tenant."""

from django.core.management.base import CommandError, CommandParser

from tenancy.models import Tenant
from tenancy.selectors import tenant_get


def add_tenant_argument(parser: CommandParser) -> None:
    parser.add_argument("--tenant", required=True, help="the tenant's schema name")


def require_tenant(schema_name: str) -> Tenant:
    """The active tenant named schema_name, or a CommandError exiting 2."""
    tenant = tenant_get(schema_name=schema_name)
    if tenant is None:
        raise CommandError(f"unknown tenant {schema_name!r}", returncode=2)
    return tenant
