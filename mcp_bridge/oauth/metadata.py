"""RFC 9728 protected-resource and RFC 8414 authorization-server metadata, and the parameters a
401/403 challenge at /mcp adds, for the tenant a request names (mcp_bridge.oauth.resources).

Served by the ASGI router before Django. Where no tenant is named (a shared host's `/mcp`, which
only static tokens can use) or OAuth is off, nothing points at an authorization server, so no
client is sent into a flow that cannot succeed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from django.db import DatabaseError, close_old_connections
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from mcp_bridge.conf import McpSettings
from mcp_bridge.oauth.conf import oauth_settings
from mcp_bridge.oauth.resources import AS_METADATA_PATH, PR_METADATA_PATH, Resource, resource_for
from mcp_bridge.oauth.verify import REQUIRED_SCOPES
from mcp_bridge.resource_metadata import protected_resource_metadata, send_metadata
from ops.limits import send_error, send_json


def _resource_sync(scheme: str, host: str, path: str) -> Resource | None:
    close_old_connections()
    try:
        return resource_for(scheme=scheme, host=host, path=path)
    except DatabaseError:
        return None
    finally:
        close_old_connections()


async def request_resource(scope: Scope, path: str | None = None) -> Resource | None:
    """The resource a request (or `path` on its origin) names; None when OAuth is off."""
    if not oauth_settings().enabled:
        return None
    host = Headers(scope=scope).get("host", "")
    scheme = "https" if scope.get("scheme") == "https" else "http"
    target = scope["path"] if path is None else path
    return await anyio.to_thread.run_sync(_resource_sync, scheme, host, target)


async def challenge_params(scope: Scope) -> list[str]:
    """Extra WWW-Authenticate parameters for a refusal at /mcp: where the metadata is, and the
    scopes needed (RFC 6750 §3, RFC 9728 §5.1)."""
    resource = await request_resource(scope)
    if resource is None:
        return []
    return [f'resource_metadata="{resource.metadata_url}"', f'scope="{" ".join(REQUIRED_SCOPES)}"']


def resource_document(resource: Resource) -> dict[str, Any]:
    return {
        **protected_resource_metadata(resource.url),
        "authorization_servers": [resource.issuer],
        "scopes_supported": list(REQUIRED_SCOPES),
        "resource_name": f"{resource.tenant.name} inventory (MCP)",
    }


def server_document(issuer: str) -> dict[str, Any]:
    """RFC 8414 metadata of a tenant's authorization server: what the toolkit there accepts."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize/",
        "token_endpoint": f"{issuer}/token/",
        "registration_endpoint": f"{issuer}/register/",
        "revocation_endpoint": f"{issuer}/revoke/",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_post",
            "client_secret_basic",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "none",
            "client_secret_post",
            "client_secret_basic",
        ],
        "scopes_supported": list(REQUIRED_SCOPES),
        "client_id_metadata_document_supported": True,
    }


# The two documents of a tenant's /t/<schema>/mcp resource: the path that asks for it, the 404
# message when the path names no resource here, and the document.
_TENANT_DOCUMENTS: tuple[tuple[re.Pattern[str], str, Callable[[Resource], dict[str, Any]]], ...] = (
    (AS_METADATA_PATH, "no authorization server here", lambda r: server_document(r.issuer)),
    (PR_METADATA_PATH, "no such resource on this host", resource_document),
)


def is_metadata_path(path: str) -> bool:
    return bool(AS_METADATA_PATH.fullmatch(path) or PR_METADATA_PATH.fullmatch(path))


async def send_oauth_metadata(
    scope: Scope, receive: Receive, send: Send, conf: McpSettings
) -> None:
    """Either metadata document; `/.well-known/oauth-protected-resource[/mcp]` falls back to the
    static-token document when the Host names no tenant (or OAuth is off)."""
    path = scope["path"]
    if scope.get("method") not in ("GET", "HEAD"):
        await send_json(send, 405, {"error": "method_not_allowed"}, [(b"allow", b"GET")])
        return
    for pattern, unknown, document in _TENANT_DOCUMENTS:
        if match := pattern.fullmatch(path):
            resource = await request_resource(scope, f"/t/{match['schema']}/mcp")
            if resource is None:
                await send_error(send, 404, "not_found", unknown)
            else:
                await send_json(send, 200, document(resource))
            return
    resource = await request_resource(scope, "/mcp")
    if resource is None:
        await send_metadata(scope, receive, send, conf)
        return
    await send_json(send, 200, resource_document(resource))
