"""Django's ASGI handler with its middleware and view run in one worker-thread hop per request.

Django's own handler loads the middleware in async mode. Every middleware in this service
(Django's, django-tenants', WhiteNoise, CSP, Axes, ours) is synchronous, so in async mode each
of their hooks, and then the view, was a separate trip from the event loop to the request's
thread and back: about twenty per REST call, measured by `make bench` as a third of a constant
DRF view's server time. Here the chain is loaded in sync mode and called once, in the same
request thread Django would have used (thread_sensitive, inside the request's
ThreadSensitiveContext), so the ORM's per-thread connection and the request_started /
request_finished handlers (close_old_connections) still meet the same connection.
"""

from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class OneHopASGIHandler(ASGIHandler):
    """ASGIHandler whose middleware chain runs synchronously, in one hop from the event loop."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        response: Any = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        return response  # type: ignore[no-any-return]


def get_asgi_application() -> OneHopASGIHandler:
    """`django.core.asgi.get_asgi_application`, with the one-hop handler."""
    django.setup(set_prefix=False)
    return OneHopASGIHandler()
