"""The public admin (platform operators): tenants, domains, API tokens, platform users, login
attempts. Registered on `public_admin_site` only, so none of it exists on a tenant's host.

Tenants are created through `tenant_provision`, the same service as `manage.py provision_tenant`
(schema, tables, roles and primary domain); domains are validated by the same rule.
"""

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django_tenants.admin import TenantAdminMixin

from tenancy.admin_sites import public_admin_site
from tenancy.models import ApiToken, Domain, Tenant
from tenancy.services import (
    ProvisioningError,
    tenant_provision,
    tenant_provision_check,
    token_revoke,
)
from tenancy.validators import validate_tenant_domain

public_admin_site.register(User, UserAdmin)
public_admin_site.register(Group, GroupAdmin)
public_admin_site.register(AccessAttempt, AccessAttemptAdmin)
public_admin_site.register(AccessLog, AccessLogAdmin)


class DomainForm(forms.ModelForm):
    """A domain typed in the admin passes the same rule as provisioning's."""

    class Meta:
        model = Domain
        fields = ("domain", "tenant", "is_primary")

    def clean_domain(self) -> str:
        return validate_tenant_domain(self.cleaned_data["domain"])


class DomainInline(admin.TabularInline):
    model = Domain
    form = DomainForm
    extra = 0


class TenantAddForm(forms.ModelForm):
    """Schema, name and primary domain: everything `provision_tenant` takes."""

    domain = forms.CharField(
        max_length=253, help_text="The tenant's host name, e.g. acme.example.com"
    )

    class Meta:
        model = Tenant
        fields = ("schema_name", "name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "schema_name" in data and "domain" in data:
            try:
                data["domain"], _ = tenant_provision_check(
                    schema_name=data["schema_name"], domain=data["domain"]
                )
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
            except ProvisioningError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data

    def _post_clean(self) -> None:
        pass  # no model validation: tenant_provision validates and saves


@admin.register(Tenant, site=public_admin_site)
class TenantAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ("schema_name", "name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("schema_name", "name")
    inlines = [DomainInline]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = TenantAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Tenant | None) -> list[type]:
        return list(self.inlines) if obj is not None else []

    def get_readonly_fields(
        self, request: HttpRequest, obj: Tenant | None = None
    ) -> tuple[str, ...]:
        return ("schema_name",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        result = tenant_provision(
            schema_name=form.cleaned_data["schema_name"],
            domain=form.cleaned_data["domain"],
            name=form.cleaned_data.get("name", ""),
        )
        obj.pk = result.tenant.pk  # the admin's redirect and log entry point at the new row
        obj.created_at = result.tenant.created_at


@admin.register(Domain, site=public_admin_site)
class DomainAdmin(admin.ModelAdmin):
    form = DomainForm
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)


@admin.register(ApiToken, site=public_admin_site)
class ApiTokenAdmin(admin.ModelAdmin):
    _DATES = ("created_at", "last_used_at", "expires_at", "revoked_at")
    list_display = ("name", "tenant", "prefix", "scopes", *_DATES)
    list_filter = ("tenant", "revoked_at")
    fields = ("tenant", "name", "prefix", "scopes", *_DATES)
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued with `manage.py issue_token`, which shows the secret once

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(prefix=token.prefix)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
