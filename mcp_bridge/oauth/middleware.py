"""django-tenants' Host routing (tenancy.middleware: its lookup cached per process), plus the per-tenant authorization server paths.

`/t/<schema>/oauth/...` is served in `<schema>`'s schema with mcp_bridge.oauth.urls as the URL conf,
on the tenant's own domains and on the shared MCP_ALLOWED_HOSTS (where the Host names no
tenant: the tunnel's hostname). Nothing else of a tenant is reachable that way: the URL conf
holds only the authorization server and the keeper's consent login.
"""

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import set_script_prefix, set_urlconf

from mcp_bridge.oauth.conf import oauth_settings
from mcp_bridge.oauth.resources import TENANT_OAUTH_PATH, tenant_allowed_on_host
from tenancy.middleware import CachedTenantMiddleware
from tenancy.selectors import tenant_get

OAUTH_URLCONF = "mcp_bridge.oauth.urls"


class TenantRoutingMiddleware(CachedTenantMiddleware):
    """The Host routing of every request (its lookup cached), and the OAuth paths by schema."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        match = TENANT_OAUTH_PATH.fullmatch(request.path_info)
        if match is None or not oauth_settings().enabled:
            return super().process_request(request)  # type: ignore[no-any-return]
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        tenant = tenant_get(schema_name=match["schema"])
        if tenant is None or not tenant_allowed_on_host(tenant=tenant, host=request.get_host()):
            raise Http404("no such tenant on this host")
        tenant.domain_url = self.hostname_from_request(request)
        request.tenant = tenant  # type: ignore[attr-defined]
        connection.set_tenant(tenant)  # type: ignore[attr-defined]
        # The prefix stays in reverse()d URLs (the toolkit's views build theirs that way).
        set_script_prefix(f"/t/{tenant.schema_name}/")
        request.path_info = match["rest"]
        request.urlconf = OAUTH_URLCONF  # type: ignore[attr-defined]
        set_urlconf(OAUTH_URLCONF)
        return None
