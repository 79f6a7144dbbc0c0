"""Show every date and time in a tenant's admin in that tenant's own time zone."""

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class TenantTimeZoneMiddleware:
    """Activates the tenant's time zone for admin views (after URL resolution) and restores
    the default afterwards. Only the admin: the REST API, MCP and the commands answer "what is
    in stock" with one rule, and must not differ by the host they were asked through."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        match = request.resolver_match
        zone = getattr(getattr(request, "tenant", None), "time_zone", "")
        if match is not None and match.app_name == "admin" and zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()  # a zone removed from the system: fall back to UTC
