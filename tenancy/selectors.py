"""Reads from the public schema: tenants by schema or host, tokens by their raw value."""

import hashlib
import hmac
import re
from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from ops.invalidation import LocalCache
from tenancy.models import ApiToken, Domain, Tenant
from tenancy.services import _hash_secret

_TOKEN_RE = re.compile(r"inv_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,100})")
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Verified tokens and host owners, per process, emptied in every process when a token, tenant or
# domain changes (ops.invalidation; tenancy.receivers publishes the changes).
_tokens: LocalCache[ApiToken | None] = LocalCache(max_age=30.0)
_hosts: LocalCache[Tenant | None] = LocalCache(max_age=30.0)


def tenant_get(*, schema_name: str) -> Tenant | None:
    """The active tenant with this schema name, or None (always None for the public schema,
    whose row only routes the public admin's host: it is no tenant to act in)."""
    return (
        Tenant.objects.filter(schema_name=schema_name, is_active=True)
        .exclude(schema_name=get_public_schema_name())
        .first()
    )


def tenant_for_host(*, host: str) -> Tenant | None:
    """The active tenant that owns host (port stripped), or None. Cached per process."""
    hostname = _hostname(host)
    return _hosts.get_or_load(hostname, lambda: _tenant_for_hostname(hostname), keep=_always)


def tenant_for_host_in_memory(*, host: str) -> tuple[bool, Tenant | None]:
    """tenant_for_host's answer when this process's cache has it: (True, owner or None), else
    (False, None) -- only tenant_for_host can say, asking the database."""
    return _hosts.peek(_hostname(host))


def _hostname(host: str) -> str:
    return (host.rsplit(":", 1)[0] if not host.endswith("]") else host).lower()


def _tenant_for_hostname(hostname: str) -> Tenant | None:
    domain = (
        Domain.objects.select_related("tenant")
        .filter(domain=hostname, tenant__is_active=True)
        .first()
    )
    return domain.tenant if domain else None


def token_authenticate(*, raw: str) -> ApiToken | None:
    """The usable token whose raw value is `raw`, with its tenant loaded; else None.

    Every failure (malformed, unknown, wrong secret, revoked, expired, inactive tenant) gives the
    same None, so callers cannot become an oracle for which one it was.

    A verified token is cached per process under a SHA-256 of the raw value (so a hit proves the
    same secret); revocation, expiry and the tenant's deactivation still refuse it: the first two
    are checked on every call, and any change to a token or tenant empties every process's cache
    (ops.invalidation).
    """
    key = hashlib.sha256((raw or "").encode()).hexdigest()
    token = _tokens.get_or_load(key, lambda: _token_verified(raw), keep=_is_token)
    if token is None or not token.is_usable or not token.tenant.is_active:
        return None
    _touch(token)
    return token


def token_in_memory(*, raw: str) -> ApiToken | None:
    """The usable token whose raw value is `raw` when this process's cache can say so without the
    database (a verified entry of the current generation, no last-used write due); else None,
    and token_authenticate decides (a miss, a refusal, or a write to make)."""
    hit, token = _tokens.peek(hashlib.sha256((raw or "").encode()).hexdigest())
    if not hit or token is None or not token.is_usable or not token.tenant.is_active:
        return None
    return None if _touch_due(token) else token


def _token_verified(raw: str) -> ApiToken | None:
    """The token whose raw value is `raw` if its secret matches, whatever its state."""
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
    return token


def _is_token(value: ApiToken | None) -> bool:
    return value is not None


def _always(value: object) -> bool:
    return True


def _touch_due(token: ApiToken) -> bool:
    last = token.last_used_at
    return last is None or timezone.now() - last > LAST_USED_RESOLUTION


def _touch(token: ApiToken) -> None:
    if _touch_due(token):
        now = timezone.now()
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_list(*, tenant: Tenant) -> list[ApiToken]:
    return list(ApiToken.objects.filter(tenant=tenant).order_by("created_at"))
