"""`manage.py mcp_stdio --tenant <schema>`: the MCP server over stdio for a local client.

The operator fixes the tenant on the command line (whoever can run manage.py can read the
database anyway). stdout carries only the protocol; logs go to stderr.
"""

import sys
from typing import Any

import anyio
from django.core.management.base import CommandParser

from mcp_bridge.conf import mcp_settings
from mcp_bridge.principal import Principal
from mcp_bridge.server import build_server
from tenancy.commands import TenantCommand
from tenancy.models import Tenant


class Command(TenantCommand):
    help = "Serve the MCP tools over stdio for one tenant (stdout is the protocol)."
    enter_schema = False  # each tool call enters the schema on its own worker thread

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tools",
            default=None,
            help="comma-separated tool allowlist (default: MCP_TOOL_ALLOWLIST)",
        )

    def handle_tenant(self, tenant: Tenant, **options: Any) -> None:
        tools = options["tools"]
        allowlist = tools.split(",") if tools else mcp_settings().tool_allowlist
        principal = Principal(
            tenant_id=tenant.pk,
            schema_name=tenant.schema_name,
            credential_name="stdio",
            credential_id="stdio",
        )
        server = build_server(allowlist=allowlist, fixed_principal=principal)
        self.stderr.write(f"mcp_stdio: serving tenant {tenant.schema_name} on stdio")
        sys.stderr.flush()
        anyio.run(server.run_stdio_async)
