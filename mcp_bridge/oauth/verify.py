"""OAuth access tokens at /mcp: the one place that decides whether one may call.

Called from the gate's single authentication step (mcp_bridge.http.McpGate._check) on a worker
thread. A static `inv_` token goes to mcp_bridge.auth.authenticate unchanged (and, at
`/t/<schema>/mcp`, must belong to that tenant); anything else is an OAuth access token, accepted
only if it was issued in the tenant the URL names (it is looked up in that tenant's schema and
nowhere else), has not expired or been revoked, its audience is exactly this request's resource
URL, and it carries the `mcp` scope. Every refusal is the same 401, except a valid token without
the scope, which gets 403 insufficient_scope.

The lookup goes to the database on every call, so a revoked grant stops the next call.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from django_tenants.utils import schema_context

from mcp_bridge.auth import AuthResult, authenticate, authenticate_in_memory
from mcp_bridge.conf import McpSettings
from mcp_bridge.oauth.conf import oauth_settings
from mcp_bridge.oauth.resources import TENANT_MCP_PATH, Resource, resource_for
from mcp_bridge.principal import Principal

logger = logging.getLogger(__name__)

MCP_SCOPE = "mcp"
REQUIRED_SCOPES = (MCP_SCOPE,)
STATIC_TOKEN_PREFIX = "inv_"  # noqa: S105 (a prefix, not a secret)
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class GateAuth:
    result: AuthResult
    insufficient_scope: bool = False


def authenticate_in_memory_request(
    *, raw_token: str, host: str, path: str, conf: McpSettings
) -> Principal | None:
    """authenticate_request's principal for a static token the process's caches know, with no
    database access (the gate calls it on the event loop); None: ask authenticate_request."""
    if not _static(raw_token):
        return None
    principal = authenticate_in_memory(raw_token=raw_token, host=host, conf=conf)
    return principal if principal is not None and _path_allows(principal, path) else None


def authenticate_request(
    *, raw_token: str, scheme: str, host: str, path: str, conf: McpSettings
) -> GateAuth:
    """Who this /mcp request is, by either kind of credential."""
    if _static(raw_token):
        result = authenticate(raw_token=raw_token, host=host, conf=conf)
        if result.principal is not None and not _path_allows(result.principal, path):
            return GateAuth(AuthResult(principal=None))
        return GateAuth(result)
    close_old_connections()
    try:
        resource = resource_for(scheme=scheme, host=host, path=path)
        return _verify(raw_token, resource) if resource else GateAuth(AuthResult(principal=None))
    except DatabaseError as exc:
        logger.warning("mcp oauth: database unavailable (%s)", type(exc).__name__)
        return GateAuth(AuthResult(principal=None, unavailable=True))
    finally:
        close_old_connections()


def _static(raw_token: str) -> bool:
    return raw_token.startswith(STATIC_TOKEN_PREFIX) or not oauth_settings().enabled


def _path_allows(principal: Principal, path: str) -> bool:
    """At /t/<schema>/mcp a static token must belong to that tenant."""
    named = TENANT_MCP_PATH.fullmatch(path)
    return named is None or principal.schema_name == named["schema"]


def _verify(raw_token: str, resource: Resource) -> GateAuth:
    from oauth2_provider.models import get_access_token_model

    refused = GateAuth(AuthResult(principal=None))
    checksum = hashlib.sha256(raw_token.encode()).hexdigest()
    schema = resource.tenant.schema_name
    with schema_context(schema):
        token = (
            get_access_token_model()
            .objects.select_related("application")
            .filter(token_checksum=checksum)
            .first()
        )
        if token is None or token.application is None or token.is_expired():
            return refused
        if token.user_id is None or not _consented(token.application):
            return refused  # every token must come from a keeper's consent (authorization code)
        if list(token.resource or []) != [resource.url]:
            return refused  # issued for another resource (another host form, another tenant)
        if not token.allow_scopes(list(REQUIRED_SCOPES)):
            return GateAuth(AuthResult(principal=None), insufficient_scope=True)
        _touch(token)
        application = token.application
    return GateAuth(
        AuthResult(
            principal=Principal(
                tenant_id=resource.tenant.pk,
                schema_name=schema,
                credential_name=f"oauth:{(application.name or application.client_id)[:60]}",
                # Rate limits count per connected agent (all its tokens), per tenant.
                credential_id=f"oauth-{schema}-{application.pk}",
            )
        )
    )


def _consented(application: Any) -> bool:
    """Issued through the authorization code grant, the only one a keeper approves."""
    return bool(application.authorization_grant_type == application.GRANT_AUTHORIZATION_CODE)


def _touch(token: object) -> None:
    """Record use (shown as "last used" in the tenant admin), at most once a minute per token."""
    now = timezone.now()
    model = type(token)
    model.objects.filter(pk=token.pk, updated__lt=now - LAST_USED_RESOLUTION).update(updated=now)  # type: ignore[attr-defined]
