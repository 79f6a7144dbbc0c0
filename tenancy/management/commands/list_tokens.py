"""manage.py list_tokens --tenant <schema>: token metadata, never secrets."""

import json
from typing import Any

from tenancy.commands import TenantCommand
from tenancy.models import Tenant
from tenancy.selectors import token_list


def _iso(value: object) -> str | None:
    return value.isoformat() if value else None  # type: ignore[attr-defined]


class Command(TenantCommand):
    help = "List a tenant's API tokens as JSON lines (prefix, name, scopes, dates); never secrets."
    enter_schema = False  # tokens live in the public schema

    def handle_tenant(self, tenant: Tenant, **opts: Any) -> None:
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
