"""Who is calling: the tenant decided by the credential, and where a handler finds it."""

from dataclasses import dataclass
from typing import Any

from ops.context import CALLER_SCOPE_KEY

# Key under which the HTTP gate stores the Principal in the ASGI scope of an /mcp request; the
# log context (ops.context) reads the tenant and token name from it.
SCOPE_KEY = CALLER_SCOPE_KEY


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. Never holds the secret: `credential_id` is the token's public prefix."""

    tenant_id: int
    schema_name: str
    credential_name: str
    credential_id: str
    # True when the database could not confirm the token and a recent lookup was reused
    # (mcp_bridge.auth): such a caller is told "cannot be confirmed" and reads no data.
    stale: bool = False


@dataclass(frozen=True)
class BridgeState:
    """The server's lifespan state: the operator-fixed caller of a stdio server, else None."""

    fixed_principal: Principal | None = None


def principal_from(request_context: Any) -> Principal | None:
    """The caller of one MCP request: from the HTTP gate, or the stdio server's fixed principal.

    `request_context` is the SDK's ServerRequestContext. An HTTP request only ever uses what the
    gate put in its scope, so a server built with a fixed principal cannot leak it to HTTP.
    """
    request = getattr(request_context, "request", None)
    if request is not None:
        principal = request.scope.get(SCOPE_KEY)
        return principal if isinstance(principal, Principal) else None
    state = getattr(request_context, "lifespan_context", None)
    return state.fixed_principal if isinstance(state, BridgeState) else None
