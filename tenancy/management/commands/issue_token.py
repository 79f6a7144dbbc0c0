"""manage.py issue_token --tenant <schema> --name <label> --scope <scope> ... [--expires-in 90d]"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from tenancy.commands import TenantCommand
from tenancy.models import Scope, Tenant
from tenancy.services import parse_duration, token_issue


class Command(TenantCommand):
    help = "Issue an API token. Prints only the token, once; it cannot be shown again."
    enter_schema = False  # tokens live in the public schema

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", action="append", required=True, choices=Scope.values)
        parser.add_argument("--expires-in", default=None, help="e.g. 90d, 12h")

    def handle_tenant(self, tenant: Tenant, **opts: Any) -> None:
        try:
            expires = parse_duration(str(opts["expires_in"])) if opts["expires_in"] else None
            issued = token_issue(
                tenant=tenant,
                name=str(opts["name"]),
                scopes=list(opts["scope"]),
                expires_in=expires,
            )
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages), returncode=2) from exc
        self.stdout.write(issued.raw)
