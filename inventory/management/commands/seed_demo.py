"""manage.py seed_demo: the `demo` tenant on demo.localhost with sample data and a keeper login.

Development only: the keeper's password is published in the README, so the command refuses to
run unless DEBUG is on.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from inventory.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_seed
from tenancy.services import public_domain_add, tenant_provision


class Command(BaseCommand):
    help = (
        "Create the demo tenant and its sample data (DEBUG only). Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", default="demo.localhost")

    def handle(self, *args: object, **opts: str) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo is for development only (its login is published): DEBUG is off",
                returncode=2,
            )
        result = tenant_provision(schema_name="demo", domain=opts["domain"], name="Demo")
        with tenant_context(result.tenant):
            counts = demo_seed()
        public_domain_add(domain="localhost")  # the public admin at http://localhost:PORT/admin/
        self.stdout.write(
            f"demo tenant ready: {counts['items']} items, {counts['locations']} locations, "
            f"{counts['open_restocks']} open restocks\n"
            f"admin: http://{opts['domain']}:{settings.PORT}/admin/  "
            f"login: {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
            f"public admin: http://localhost:{settings.PORT}/admin/  "
            "(create its login: manage.py createsuperuser)"
        )
