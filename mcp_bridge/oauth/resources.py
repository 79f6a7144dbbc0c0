"""Which tenant a URL names, and each tenant's canonical resource URL and issuer.

A tenant's MCP endpoint has two public forms, and each is its own protected resource:

- `<origin>/mcp` on one of the tenant's own domains (the Host names the tenant);
- `<origin>/t/<schema>/mcp` on any host the tenant may be reached at: its own domains and the
  shared MCP_ALLOWED_HOSTS (the tunnel's hostname, the upstream address). The path names the
  tenant, so it also works where every tenant shares one hostname.

Either way the authorization server is the tenant's own, `<origin>/t/<schema>/oauth`, and an
access token is accepted only at the exact resource URL it was issued for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.http.request import split_domain_port
from django_tenants.utils import get_public_schema_name

from mcp_bridge.oauth.conf import oauth_settings
from tenancy.models import Tenant

_SCHEMA = r"[a-z][a-z0-9_]{0,62}"
TENANT_MCP_PATH = re.compile(rf"/t/(?P<schema>{_SCHEMA})/mcp/?")
TENANT_OAUTH_PATH = re.compile(rf"/t/(?P<schema>{_SCHEMA})(?P<rest>/oauth/.*)")
AS_METADATA_PATH = re.compile(
    rf"/\.well-known/oauth-authorization-server/t/(?P<schema>{_SCHEMA})/oauth/?"
)
PR_METADATA_PATH = re.compile(
    rf"/\.well-known/oauth-protected-resource/t/(?P<schema>{_SCHEMA})/mcp/?"
)
HOST_PR_METADATA_PATHS = frozenset({"/.well-known/oauth-protected-resource/mcp"})
# What a remote client and the keeper's browser need through the tunnel (mcp_bridge.asgi.McpOnly).
TUNNEL_OAUTH_PATH = re.compile(
    rf"/t/{_SCHEMA}/oauth/(authorize|token|register|revoke|login)/"
    rf"|/\.well-known/oauth-authorization-server/t/{_SCHEMA}/oauth"
    rf"|/\.well-known/oauth-protected-resource/t/{_SCHEMA}/mcp"
)


@dataclass(frozen=True)
class Resource:
    url: str  # the canonical resource URL: what a token's audience must be exactly
    tenant: Tenant
    issuer: str  # the tenant's authorization server on the same origin

    @property
    def metadata_url(self) -> str:
        """RFC 9728 §3.1: the well-known path inserted between the origin and the resource path."""
        scheme, _, rest = self.url.partition("://")
        authority, _, path = rest.partition("/")
        return f"{scheme}://{authority}/.well-known/oauth-protected-resource/{path}"


def public_origin(*, scheme: str, host: str) -> str:
    """scheme://host, with the scheme MCP_OAUTH_PUBLIC_ORIGINS names for this host, if any."""
    host = host.lower()
    return f"{oauth_settings().public_schemes.get(host, scheme)}://{host}"


def resource_for(*, scheme: str, host: str, path: str) -> Resource | None:
    """The protected resource that a request to scheme://host/path is for, or None when it names
    no tenant or the tenant may not be reached on this host."""
    from mcp_bridge.auth import host_allowed  # ORM imports: called once apps are ready
    from mcp_bridge.conf import mcp_settings
    from tenancy.selectors import tenant_for_host, tenant_get

    domain, _port = split_domain_port(host)
    if not domain or scheme not in ("http", "https"):
        return None
    origin = public_origin(scheme=scheme, host=host)
    if path in ("/mcp", "/mcp/"):
        tenant = tenant_for_host(host=domain)
        if tenant is None or tenant.schema_name == get_public_schema_name():
            return None
        url = f"{origin}/mcp"
    elif match := TENANT_MCP_PATH.fullmatch(path):
        tenant = tenant_get(schema_name=match["schema"])
        allowed = mcp_settings().allowed_hosts
        if tenant is None or not host_allowed(tenant=tenant, host=host, allowed_hosts=allowed):
            return None
        url = f"{origin}/t/{tenant.schema_name}/mcp"
    else:
        return None
    return Resource(url=url, tenant=tenant, issuer=f"{origin}/t/{tenant.schema_name}/oauth")


def resource_from_url(url: str) -> Resource | None:
    """The resource a `resource` parameter names, only when `url` is exactly its canonical form."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.query or parts.fragment or parts.username or parts.password or not parts.netloc:
        return None
    resource = resource_for(scheme=parts.scheme, host=parts.netloc, path=parts.path)
    return resource if resource is not None and resource.url == url else None


def tenant_allowed_on_host(*, tenant: Tenant, host: str) -> bool:
    """Whether tenant's OAuth pages may be served on this Host (its domains, MCP_ALLOWED_HOSTS)."""
    from mcp_bridge.auth import host_allowed
    from mcp_bridge.conf import mcp_settings

    return host_allowed(tenant=tenant, host=host, allowed_hosts=mcp_settings().allowed_hosts)
