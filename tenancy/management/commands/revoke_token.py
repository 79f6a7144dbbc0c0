"""manage.py revoke_token <prefix>"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenancy.models import ApiToken
from tenancy.services import token_revoke


class Command(BaseCommand):
    help = "Revoke an API token by its prefix (the part after inv_)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix")

    def handle(self, *args: object, **opts: str) -> None:
        prefix = opts["prefix"].removeprefix("inv_").split("_", 1)[0]
        try:
            token = token_revoke(prefix=prefix)
        except ApiToken.DoesNotExist as exc:
            raise CommandError(f"no token with prefix {prefix!r}", returncode=2) from exc
        self.stdout.write(
            f"revoked {token.name} (inv_{token.prefix}_…) at {token.revoked_at:%Y-%m-%dT%H:%M:%SZ}"
        )
