"""Scope checks: reads need `stock:read`, writes need `stock:write`; a missing scope is a 403."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from inventory.api.authentication import TokenPrincipal
from inventory.api.errors import ApiError
from tenancy.models import Scope

if TYPE_CHECKING:
    from rest_framework.views import APIView


def required_scope(request: Request) -> str:
    return Scope.STOCK_READ if request.method in SAFE_METHODS else Scope.STOCK_WRITE


class HasScope(BasePermission):
    """Authenticated by a tenant token that has the scope this method needs."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        principal = request.user
        if not isinstance(principal, TokenPrincipal):
            return False  # DRF answers 401 (with WWW-Authenticate) for unauthenticated requests
        scope = str(required_scope(request))
        if not principal.token.has_scope(scope):
            raise ApiError(403, "missing_scope", f"this token lacks the scope {scope!r}")
        return True
