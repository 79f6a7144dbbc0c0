"""manage.py create_keeper --tenant <schema> <username> [--viewer] [--password-stdin]

Creates a staff login in one tenant: a "Stock keeper" (or, with --viewer, a "Viewer"), never a
superuser. The password comes from a prompt, or from the first line of stdin.
"""

import getpass
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from inventory.keepers import KeeperError, keeper_create
from inventory.roles import STOCK_KEEPER, VIEWER
from tenancy.commands import TenantCommand
from tenancy.models import Tenant


class Command(TenantCommand):
    help = "Create a tenant admin login in the Stock keeper (or Viewer) role; never a superuser."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--viewer", action="store_true", help="read-only Viewer role")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )

    def handle_tenant(self, tenant: Tenant, **opts: Any) -> None:
        password = _password(from_stdin=bool(opts["password_stdin"]))
        role = VIEWER if opts["viewer"] else STOCK_KEEPER
        try:
            user = keeper_create(username=str(opts["username"]), password=password, role=role)
        except KeeperError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(f"created {role} {user.get_username()} in tenant {tenant.schema_name}")


def _password(*, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError(
            "no terminal to prompt for a password: use --password-stdin", returncode=2
        )
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("the passwords do not match", returncode=2)
    return first
