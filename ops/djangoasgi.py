"""Django's ASGI handler with a request's whole synchronous part run in one worker-thread hop.

Django's own handler loads the middleware in async mode. Every middleware in this service
(Django's, django-tenants', WhiteNoise, CSP, Axes, ours) is synchronous, so in async mode each
of their hooks, and then the view, was a separate trip from the event loop to the request's
thread and back: about twenty per REST call, measured by `make bench` as a third of a constant
DRF view's server time. Django's `handle` adds three more: the request_started signal, the
response's close() (request_finished) and a task listening for a disconnect beside the view.

Here one hop does it all, in the same request thread Django would have used (thread_sensitive,
inside the request's ThreadSensitiveContext): request_started, the request, the middleware chain
loaded in sync mode, the view and, for a response whose content is already rendered, close()
with request_finished, so the ORM's per-thread connection goes back to the pool before the
response is sent. A streaming response produces its content while it is sent, so it is closed
after sending, as Django does. No disconnect listener: a synchronous view cannot be cancelled
midway, and a response to a client that left is dropped by the server.
"""

from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

__all__ = ["OneHopASGIHandler", "get_asgi_application"]


class OneHopASGIHandler(ASGIHandler):
    """ASGIHandler whose synchronous work for a request runs in one hop from the event loop."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """request_started, the request, the middleware and view; closed unless streaming."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None  # noqa: S101 - create_request returns one or the other
            response: HttpResponseBase = error_response
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size  # the ASGI server does the chunking
        if not response.streaming:
            response.close()  # request_finished: connections back to the pool, before sending
        return response


def get_asgi_application() -> OneHopASGIHandler:
    """`django.core.asgi.get_asgi_application`, with the one-hop handler."""
    django.setup(set_prefix=False)
    return OneHopASGIHandler()
