"""Reads from the public schema: tenants by schema or host, tokens by their raw value."""

import hmac
import re
from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenancy.models import ApiToken, Domain, Tenant
from tenancy.services import _hash_secret

_TOKEN_RE = re.compile(r"inv_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,100})")
LAST_USED_RESOLUTION = timedelta(minutes=1)


def tenant_get(*, schema_name: str) -> Tenant | None:
    """The active tenant with this schema name, or None (always None for the public schema,
    whose row only routes the public admin's host: it is no tenant to act in)."""
    return (
        Tenant.objects.filter(schema_name=schema_name, is_active=True)
        .exclude(schema_name=get_public_schema_name())
        .first()
    )


def tenant_for_host(*, host: str) -> Tenant | None:
    """The active tenant that owns host (port stripped), or None."""
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    domain = (
        Domain.objects.select_related("tenant")
        .filter(domain=hostname.lower(), tenant__is_active=True)
        .first()
    )
    return domain.tenant if domain else None


def token_authenticate(*, raw: str) -> ApiToken | None:
    """The usable token whose raw value is `raw`, with its tenant loaded; else None.

    Every failure (malformed, unknown, wrong secret, revoked, expired, inactive tenant) gives the
    same None, so callers cannot become an oracle for which one it was.
    """
    match = _TOKEN_RE.fullmatch(raw or "")
    if not match:
        return None
    prefix, secret = match.groups()
    token = ApiToken.objects.select_related("tenant").filter(prefix=prefix).first()
    if token is None:
        _hash_secret(secret)  # keep timing similar to the found case
        return None
    if not hmac.compare_digest(token.secret_hash, _hash_secret(secret)):
        return None
    if not token.is_usable or not token.tenant.is_active:
        return None
    _touch(token)
    return token


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_list(*, tenant: Tenant) -> list[ApiToken]:
    return list(ApiToken.objects.filter(tenant=tenant).order_by("created_at"))
