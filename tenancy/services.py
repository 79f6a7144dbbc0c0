"""Writes to the public schema: provisioning tenants and issuing or revoking API tokens."""

import hashlib
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from tenancy.models import ApiToken, Domain, Scope, Tenant
from tenancy.provisioning import tenant_create
from tenancy.signals import tenant_schema_ready
from tenancy.validators import validate_schema_name, validate_tenant_domain

TOKEN_PREFIX_BYTES = 6
_SECRET_ALPHABET = string.ascii_letters + string.digits


class ProvisioningError(Exception):
    """The tenant cannot be provisioned as asked (for example, its domain is taken)."""


@dataclass(frozen=True)
class ProvisionResult:
    tenant: Tenant
    created: bool
    domain_added: bool


@contextmanager
def no_statement_timeout() -> Iterator[None]:
    """Lift the request-sized statement timeout for schema work (creating, migrating)."""
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def tenant_provision_check(*, schema_name: str, domain: str) -> tuple[str, Domain | None]:
    """Validate a provisioning request: (normalised domain, its Domain row if it exists).

    Raises ValidationError for a bad schema name or domain, ProvisioningError when the domain
    belongs to another tenant. The public admin's add form runs this before saving.
    """
    validate_schema_name(schema_name)
    domain = validate_tenant_domain(domain)
    owner = Domain.objects.filter(domain=domain).select_related("tenant").first()
    if owner and owner.tenant.schema_name != schema_name:
        raise ProvisioningError(
            f"domain {domain!r} already belongs to tenant {owner.tenant.schema_name!r}"
        )
    return domain, owner


def tenant_provision(*, schema_name: str, domain: str, name: str = "") -> ProvisionResult:
    """Create a tenant with its schema, tables, roles and primary domain; a repeat changes nothing."""
    domain, owner = tenant_provision_check(schema_name=schema_name, domain=domain)
    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    created = tenant is None
    if tenant is None:
        tenant = Tenant(schema_name=schema_name, name=name or schema_name)
        with no_statement_timeout():
            tenant_create(tenant)  # the row and its schema, replayed from a migrated template
    with schema_context(tenant.schema_name):
        # Tenant apps fill in their rows (inventory: the "Stock keeper" and "Viewer" groups),
        # also on a repeat (new permissions).
        tenant_schema_ready.send(sender=Tenant, tenant=tenant)
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
        raise ValueError(
            f"invalid duration {text!r}: use a positive number followed by d, h, m or s"
        )
    return timedelta(**{units[unit]: int(number)})


def token_issue(
    *, tenant: Tenant, name: str, scopes: list[str], expires_in: timedelta | None = None
) -> IssuedToken:
    """Create a token for tenant; the returned raw value is the only copy of the secret."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown or not scopes:
        raise ValueError(
            f"unknown or missing scopes {unknown}; choose from {', '.join(Scope.values)}"
        )
    prefix = secrets.token_hex(TOKEN_PREFIX_BYTES)
    # Letters and digits only (43 of 62 symbols = 256 bits), so `inv_<prefix>_<secret>` splits
    # unambiguously on "_" and survives double-click selection and shell quoting.
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(43))
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


@transaction.atomic
def public_domain_add(*, domain: str) -> Domain:
    """Route `domain` to the public schema (the public admin): the public tenant row is created
    if missing, without touching the schema itself. Development uses it for `localhost`."""
    public = Tenant.objects.filter(schema_name=get_public_schema_name()).first()
    if public is None:
        public = Tenant(schema_name=get_public_schema_name(), name="Public")
        public.auto_create_schema = False  # the public schema exists and is migrated
        public.full_clean(validate_unique=False)
        public.save()
    existing = Domain.objects.filter(domain=domain.strip().lower()).first()
    if existing is not None:
        if existing.tenant_id != public.pk:
            raise ProvisioningError(f"domain {domain!r} already belongs to another tenant")
        return existing
    primary = not Domain.objects.filter(tenant=public).exists()
    return Domain.objects.create(domain=domain.strip().lower(), tenant=public, is_primary=primary)
