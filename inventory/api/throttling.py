"""Per-token throttle on the shared limiter, so REST and MCP calls of a token count together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from inventory.api.authentication import TokenPrincipal
from inventory.api.conf import api_settings
from tenancy.ratelimit import token_rate_hit, token_rate_key

if TYPE_CHECKING:
    from rest_framework.views import APIView


class TokenRateThrottle(BaseThrottle):
    """Allow API_RATE calls per token; DRF then answers 429 with Retry-After."""

    def __init__(self) -> None:
        self._retry_after: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        principal = request.user
        if not isinstance(principal, TokenPrincipal):
            return True  # unauthenticated requests never reach a view
        # Decided in memory (tenancy.ratelimit.token_rate_hit): no Redis round trip per call,
        # and with Redis unreachable the rate still holds for this process's own calls.
        decision = token_rate_hit(
            key=token_rate_key(principal.token.prefix), rate=api_settings().RATE
        )
        self._retry_after = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return self._retry_after
