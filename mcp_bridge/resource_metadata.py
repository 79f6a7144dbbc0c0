"""RFC 9728 protected-resource metadata of the shared `/mcp` endpoint: this endpoint's public URL
and the document that describes it. A tenant's own resource (`/t/<schema>/mcp`, with its
authorization server) is described by mcp_bridge.oauth.metadata, which builds on this one."""

from typing import Any

from django.http.request import split_domain_port, validate_host
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from mcp_bridge.conf import McpSettings
from ops.limits import send_json

METADATA_PATH = "/.well-known/oauth-protected-resource"


def resource_url(scope: Scope, conf: McpSettings) -> str | None:
    """This endpoint's public URL: MCP_RESOURCE_URL, else built from the request's Host when that
    is a well-formed name this service answers to (ALLOWED_HOSTS or MCP_ALLOWED_HOSTS); else None.

    The Host header is never copied as is: a `"` in it would add parameters to WWW-Authenticate.
    """
    if conf.resource_url:
        return conf.resource_url
    domain, port = split_domain_port(Headers(scope=scope).get("host", ""))
    if not domain or not validate_host(domain, [*conf.site_hosts, *conf.allowed_hosts]):
        return None
    scheme = "https" if scope.get("scheme") == "https" else "http"
    return f"{scheme}://{domain}{':' + port if port else ''}/mcp"


def metadata_url(scope: Scope, conf: McpSettings) -> str | None:
    """RFC 9728 §3.1: the well-known path inserted before the resource's path."""
    resource = resource_url(scope, conf)
    if resource is None:
        return None
    base, _, path = resource.partition("://")
    authority, _, rest = path.partition("/")
    return f"{base}://{authority}{METADATA_PATH}/{rest}".rstrip("/")


def protected_resource_metadata(resource: str) -> dict[str, Any]:
    """RFC 9728 metadata. Tokens are static bearer tokens issued by `manage.py issue_token`, so
    there is no authorization server to name."""
    return {
        "resource": resource,
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp"],
        "resource_name": "Tenant inventory MCP endpoint",
    }


async def send_metadata(scope: Scope, receive: Receive, send: Send, conf: McpSettings) -> None:
    """Serve the protected-resource metadata document (GET only)."""
    if scope.get("method") not in ("GET", "HEAD"):
        await send_json(send, 405, {"error": "method_not_allowed"}, [(b"allow", b"GET")])
        return
    resource = resource_url(scope, conf)
    if resource is None:
        body = {"error": "not_found", "error_description": "unknown host; set MCP_RESOURCE_URL"}
        await send_json(send, 404, body)
        return
    await send_json(send, 200, protected_resource_metadata(resource))
