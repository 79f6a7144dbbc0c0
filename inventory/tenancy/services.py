"""Writes to the public schema: provisioning tenants and issuing or revoking API tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_tenants.utils import get_tenant_base_schema, schema_context, schema_exists

from inventory.tenancy.models import ApiToken, Domain, Scope, Tenant
from inventory.tenancy.validators import validate_schema_name

TOKEN_PREFIX_BYTES = 6
TOKEN_SECRET_BYTES = 32


class ProvisioningError(Exception):
    """The tenant cannot be provisioned as asked (for example, its domain is taken)."""


@dataclass(frozen=True)
class ProvisionResult:
    tenant: Tenant
    created: bool
    domain_added: bool


def _template_needs_migrations(schema: str) -> bool:
    with schema_context(schema):
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        return bool(executor.migration_plan(targets))


def tenant_template_ensure() -> str:
    """Create and migrate the template schema that new tenants are cloned from.

    Cloning one migrated schema is much faster than migrating each new schema from scratch.
    """
    template = get_tenant_base_schema()
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{validate_template(template)}"')
    if _template_needs_migrations(template):
        call_command(
            "migrate_schemas", schema_name=template, tenant=True, interactive=False, verbosity=0
        )
    return template


def validate_template(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ProvisioningError(f"invalid template schema name {name!r}")
    return name


def tenant_provision(*, schema_name: str, domain: str, name: str = "") -> ProvisionResult:
    """Create a tenant with its schema, tables and primary domain; a repeat changes nothing."""
    validate_schema_name(schema_name)
    domain = domain.strip().lower()
    if not domain:
        raise ProvisioningError("a domain is required")
    owner = Domain.objects.filter(domain=domain).select_related("tenant").first()
    if owner and owner.tenant.schema_name != schema_name:
        raise ProvisioningError(f"domain {domain!r} already belongs to tenant {owner.tenant.schema_name!r}")
    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    created = tenant is None
    if tenant is None:
        tenant_template_ensure()
        tenant = Tenant(schema_name=schema_name, name=name or schema_name)
        tenant.save(verbosity=0)  # clones the template schema (django-tenants)
    domain_added = owner is None
    if domain_added:
        with transaction.atomic():
            is_primary = not tenant.domains.exists()
            Domain.objects.create(domain=domain, tenant=tenant, is_primary=is_primary)
    return ProvisionResult(tenant=tenant, created=created, domain_added=domain_added)


def _hash_secret(secret: str) -> str:
    # Secrets are 256-bit random values, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once, never stored


def parse_duration(text: str) -> timedelta:
    """Parse '90d', '12h', '30m' or '45s' into a timedelta."""
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise ValueError(f"invalid duration {text!r}: use a positive number followed by d, h, m or s")
    return timedelta(**{units[unit]: int(number)})


def token_issue(
    *, tenant: Tenant, name: str, scopes: list[str], expires_in: timedelta | None = None
) -> IssuedToken:
    """Create a token for tenant; the returned raw value is the only copy of the secret."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown or not scopes:
        raise ValueError(f"unknown or missing scopes {unknown}; choose from {', '.join(Scope.values)}")
    prefix = secrets.token_hex(TOKEN_PREFIX_BYTES)
    secret = secrets.token_urlsafe(TOKEN_SECRET_BYTES)
    token = ApiToken(
        tenant=tenant,
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=sorted(set(scopes)),
        expires_at=timezone.now() + expires_in if expires_in else None,
    )
    token.full_clean()
    token.save()
    return IssuedToken(token=token, raw=f"inv_{prefix}_{secret}")


def token_revoke(*, prefix: str) -> ApiToken:
    """Revoke a token by its public prefix; revoking twice keeps the first revocation time."""
    token = ApiToken.objects.get(prefix=prefix)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
