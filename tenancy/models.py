"""Tenants, their domains and API tokens; all live in the public schema."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin

from tenancy.validators import validate_time_zone


class Tenant(TenantMixin):
    """One customer; its inventory lives in the PostgreSQL schema `schema_name`."""

    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],  # type: ignore[list-item]
        help_text="IANA name (e.g. Europe/Berlin): every date and time in this tenant's admin.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    auto_create_schema = True

    class Meta:
        ordering = ["schema_name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.schema_name})"


class Domain(DomainMixin):
    """A host name that routes HTTP requests to a tenant."""


class Scope(models.TextChoices):
    STOCK_READ = "stock:read", "Read stock"
    STOCK_WRITE = "stock:write", "Change stock"
    MCP = "mcp", "Call MCP tools"


class ApiToken(models.Model):
    """A bearer credential bound to one tenant. Only a hash of the secret is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=20, choices=Scope.choices))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tenant__schema_name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_token_name_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.name} (inv_{self.prefix}_…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
