"""Public-schema admin: tenants, domains and API tokens (list and revoke; never the secret)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django_tenants.admin import TenantAdminMixin
from django_tenants.utils import get_public_schema_name

from inventory.tenancy.models import ApiToken, Domain, Tenant
from inventory.tenancy.services import token_revoke


class PublicOnlyAdmin(admin.ModelAdmin):
    """Shown only on the public schema's admin, never inside a tenant's admin."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        on_public = tenant is None or tenant.schema_name == get_public_schema_name()
        return on_public and super().has_module_permission(request)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, PublicOnlyAdmin):
    list_display = ("schema_name", "name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("schema_name", "name")
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(PublicOnlyAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)


@admin.register(ApiToken)
class ApiTokenAdmin(PublicOnlyAdmin):
    list_display = (
        "name",
        "tenant",
        "prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("tenant", "revoked_at")
    fields = (
        "tenant",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued with `manage.py issue_token`, which shows the secret once

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(prefix=token.prefix)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
