"""manage.py list_tokens --tenant <schema>: token metadata, never secrets."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenancy.selectors import tenant_get, token_list


def _iso(value: object) -> str | None:
    return value.isoformat() if value else None  # type: ignore[attr-defined]


class Command(BaseCommand):
    help = "List a tenant's API tokens as JSON lines (prefix, name, scopes, dates); never secrets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)

    def handle(self, *args: object, **opts: str) -> None:
        tenant = tenant_get(schema_name=opts["tenant"])
        if tenant is None:
            raise CommandError(f"unknown tenant {opts['tenant']!r}", returncode=2)
        for token in token_list(tenant=tenant):
            row = {
                "prefix": token.prefix,
                "name": token.name,
                "scopes": token.scopes,
                "created": _iso(token.created_at),
                "last_used": _iso(token.last_used_at),
                "expires": _iso(token.expires_at),
                "revoked": _iso(token.revoked_at),
            }
            self.stdout.write(json.dumps(row))
