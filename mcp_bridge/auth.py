"""Deciding who an /mcp request is: bearer token, `mcp` scope, Host against the token's tenant.

Synchronous (the ORM and the Redis limiter); the HTTP gate runs it on a worker thread.

Cost: the token and the Host's owner come from tenancy.selectors, which cache verified tokens
and host owners per process and drop them in every process when one changes (ops.invalidation),
so a known token on a known Host costs no query; `close_old_connections` is then a no-op (no
connection was taken), and returns the connection to the pool when a lookup did query.

Database outages: a lookup that misses the cache goes to the database, so a revoked token stops
working on its next request. Only when the database cannot be reached does `authenticate` fall back to
a successful lookup of the same token *and* host made within MCP_AUTH_STALE_SECONDS by this
process ("stale-if-error"). That principal is marked `stale`: the caller reaches the tool and
gets an honest "stock cannot be confirmed right now" instead of a 401 that tells an agent its
credential is bad, and the tool reads no inventory data for it (`mcp_bridge.db.tenant_db`
refuses a stale principal), so a token revoked shortly before an outage -- or before a lock on
the token table, a restart or an exhausted pool that fails only the token lookup -- reads
nothing. Tokens never seen before the outage get 503. Entries are keyed by a SHA-256 of the token.
"""

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from django.db import DatabaseError, close_old_connections
from django.http.request import split_domain_port, validate_host
from django_tenants.utils import get_public_schema_name

from mcp_bridge.conf import McpSettings
from mcp_bridge.principal import Principal
from tenancy.models import ApiToken, Scope, Tenant
from tenancy.ratelimit import token_rate_hit, token_rate_key
from tenancy.selectors import (
    tenant_for_host,
    tenant_for_host_in_memory,
    token_authenticate,
    token_in_memory,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthResult:
    principal: Principal | None
    unavailable: bool = False  # the database could not be asked and nothing fresh was cached


class _StaleCache:
    """Recent successful lookups, for use only while the database is unreachable."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def put(self, key: str, principal: Principal) -> None:
        with self._lock:
            self._entries[key] = (principal, time.monotonic())
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def get(self, key: str, max_age: float) -> Principal | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[1] > max_age:
            return None
        return entry[0]

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


_stale = _StaleCache()


def authenticate(*, raw_token: str, host: str, conf: McpSettings) -> AuthResult:
    """The Principal for this token on this Host, or None (-> 401), or unavailable (-> 503)."""
    key = _stale_key(raw_token, host)
    close_old_connections()
    try:
        principal = _lookup(raw_token, host, conf)
    except DatabaseError as exc:
        cached = _stale.get(key, conf.auth_stale_seconds) if conf.auth_stale_seconds else None
        logger.warning(
            "mcp auth: database unavailable (%s); cached=%s", type(exc).__name__, bool(cached)
        )
        if cached is None:
            return AuthResult(principal=None, unavailable=True)
        return AuthResult(principal=replace(cached, stale=True))
    finally:
        close_old_connections()
    if principal is None:
        _stale.drop(key)
    else:
        _stale.put(key, principal)
    return AuthResult(principal=principal)


def authenticate_in_memory(*, raw_token: str, host: str, conf: McpSettings) -> Principal | None:
    """authenticate's principal when this process's caches know the token and the Host (no
    database, so it may run on the event loop); None when only `authenticate` can say -- a
    cache miss, a refusal, a token whose last use is due to be written."""
    token = token_in_memory(raw=raw_token)
    if token is None or not token.has_scope(Scope.MCP):
        return None
    domain, _port = split_domain_port(host)
    known, owner = tenant_for_host_in_memory(host=domain) if domain else (False, None)
    if not known or not _owner_allows(owner, token.tenant, domain, conf.allowed_hosts):
        return None
    principal = _principal(token)
    # Kept as fresh as on the database path: the fallback during an outage (see the docstring).
    _stale.put(_stale_key(raw_token, host), principal)
    return principal


def _stale_key(raw_token: str, host: str) -> str:
    return hashlib.sha256(f"{raw_token}\0{host.lower()}".encode()).hexdigest()


def _lookup(raw_token: str, host: str, conf: McpSettings) -> Principal | None:
    token = token_authenticate(raw=raw_token)
    if token is None or not token.has_scope(Scope.MCP):
        return None
    if not host_allowed(tenant=token.tenant, host=host, allowed_hosts=conf.allowed_hosts):
        return None
    return _principal(token)


def _principal(token: ApiToken) -> Principal:
    return Principal(
        tenant_id=token.tenant.pk,
        schema_name=token.tenant.schema_name,
        credential_name=token.name,
        credential_id=token.prefix,
    )


def host_allowed(*, tenant: Tenant, host: str, allowed_hosts: tuple[str, ...]) -> bool:
    """A tenant domain must be `tenant`'s own; any other host must be in MCP_ALLOWED_HOSTS."""
    domain, _port = split_domain_port(host)
    if not domain:
        return False
    return _owner_allows(tenant_for_host(host=domain), tenant, domain, allowed_hosts)


def _owner_allows(
    owner: Tenant | None, tenant: Tenant, domain: str, allowed_hosts: tuple[str, ...]
) -> bool:
    if owner is not None and owner.schema_name != get_public_schema_name():
        return owner.pk == tenant.pk
    return validate_host(domain, list(allowed_hosts))


def throttle(*, principal: Principal, rate: str, tool_call: bool = True) -> int:
    """Count one request against the token's rate; seconds to wait if over it, else 0.

    A tool call counts on the token's counter, shared with the REST API, so a token's REST and
    MCP calls count together; each interface compares it with its own rate (MCP_RATE here).
    Protocol housekeeping (`tool_call=False`) counts on a counter of its own. Decided in memory
    (tenancy.ratelimit.token_rate_hit), so it needs no thread and no Redis round trip; with
    Redis unreachable the rate still holds for this process's own calls.
    """
    key = token_rate_key(principal.credential_id)
    decision = token_rate_hit(key=key if tool_call else f"{key}:mcp-protocol", rate=rate)
    return 0 if decision.allowed else decision.retry_after
