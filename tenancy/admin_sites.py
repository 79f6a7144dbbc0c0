"""The two admin sites: the tenant site (admin.site, on tenant domains) and the public site.

Public-schema models (tenants, domains, API tokens, the tunnel, login attempts) are registered
only on `public_admin_site`, which only config/urls_public.py mounts: on a tenant's host their
URLs do not exist at all, whoever asks. Each site also refuses to serve on the other kind of
host, so a URL conf mistake cannot mount one where the other belongs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name


def on_public_host(request: HttpRequest) -> bool:
    """True when the request's host is the public schema's (not a tenant's)."""
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name == get_public_schema_name()


class TenantAdminSite(AdminSite):
    """A tenant's own admin: its inventory and its users, headed with the tenant's name."""

    final_catch_all_view = False  # an unknown admin URL is a 404 for everyone, not a login page

    def has_permission(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        return (
            tenant is not None and not on_public_host(request) and super().has_permission(request)
        )

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = f"{tenant.name} inventory"
            context["site_title"] = tenant.name
        return context


class PublicAdminSite(AdminSite):
    """The platform operators' admin on the public host: tenants, domains, tokens, the tunnel."""

    site_header = "Inventory platform administration"
    site_title = "Inventory platform"
    index_title = "Platform"
    final_catch_all_view = False

    def has_permission(self, request: HttpRequest) -> bool:
        return on_public_host(request) and super().has_permission(request)


public_admin_site = PublicAdminSite(name="admin")
