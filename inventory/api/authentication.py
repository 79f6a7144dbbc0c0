"""Bearer-token authentication: the token must be usable and belong to the host's tenant."""

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from inventory.api.errors import TOO_MANY_FAILURES, ApiError
from tenancy.models import ApiToken
from tenancy.ratelimit import bearer_attempt_failed, bearer_attempt_wait
from tenancy.selectors import token_authenticate


@dataclass(frozen=True)
class TokenPrincipal:
    """The caller of an API request: one token of the current tenant."""

    token: ApiToken
    is_authenticated: bool = True

    @property
    def actor(self) -> str:
        """How API writes are attributed in the ledger: token:<prefix>:<name>."""
        return f"token:{self.token.prefix}:{self.token.name}"


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer inv_<prefix>_<secret>`.

    No header lets the permission check answer 401; every bad header (malformed, unknown,
    revoked, expired, another tenant's token) raises the same AuthenticationFailed, and the
    error handler gives both the same body, so nothing tells them apart. Bad headers count
    against the client address: past AUTH_FAILURE_RATE its failures get 429.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, ApiToken] | None:
        header = get_authorization_header(request)
        if not header:
            return None
        scheme, _, raw = header.partition(b" ")
        try:
            raw_token = raw.strip().decode("ascii")
        except UnicodeDecodeError:
            raw_token = ""
        token = token_authenticate(raw=raw_token) if scheme.lower() == self.keyword else None
        tenant = getattr(request, "tenant", None)
        if token is None or tenant is None or token.tenant_id != tenant.pk:
            # Past AUTH_FAILURE_RATE an address's failures get 429 (a valid token always passes,
            # so another client behind the same proxy address cannot lock it out).
            address = str(request.META.get("REMOTE_ADDR", ""))
            if wait := bearer_attempt_wait(address=address):
                raise ApiError(
                    429, "throttled", f"{TOO_MANY_FAILURES}; retry in {wait}s", retry_after=wait
                )
            bearer_attempt_failed(address=address)
            raise AuthenticationFailed()
        return TokenPrincipal(token=token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inventory.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token, `inv_<prefix>_<secret>`, from `manage.py issue_token`.",
        }
