"""Per-token throttle on the shared limiter, so REST and MCP calls of a token count together."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from inventory.api.authentication import TokenPrincipal
from inventory.api.conf import api_settings
from tenancy.ratelimit import ratelimit_hit, token_rate_key

if TYPE_CHECKING:
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class TokenRateThrottle(BaseThrottle):
    """Allow API_RATE calls per token; DRF then answers 429 with Retry-After."""

    def __init__(self) -> None:
        self._retry_after: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        principal = request.user
        if not isinstance(principal, TokenPrincipal):
            return True  # unauthenticated requests never reach a view
        try:
            decision = ratelimit_hit(
                key=token_rate_key(principal.token.prefix), rate=api_settings().RATE
            )
        except (RedisError, OSError) as exc:
            # Like the MCP endpoint: an unreachable limiter must not take the API down with it.
            logger.warning("api rate limiter unavailable (%s); request allowed", type(exc).__name__)
            return True
        self._retry_after = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return self._retry_after
