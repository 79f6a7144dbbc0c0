"""The outermost ASGI layer: request bodies capped before anything reads them, and the database
deadline of the data-plane requests.

Body caps: a declared Content-Length over the path's cap is answered 413 without reading a byte
of the body; a streamed (chunked) body is counted as the application reads it, and the read that
crosses the cap ends the request with 413 (the application sees the client go away). Every path
gets MAX_BODY_BYTES unless a BODY_CAPS prefix gives it another cap (the longest prefix wins).

Deadline: /mcp and /api/ requests run inside `ops.deadline.request_deadline`, so no
database wait of theirs outlives DB_REQUEST_DEADLINE seconds.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops import deadline
from ops.conf import OpsSettings, ops_settings

DEADLINE_PREFIXES = ("/mcp", "/api/")


async def send_json(
    send: Send, status: int, body: dict[str, Any], extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """One complete JSON response, never cached."""
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def send_error(
    send: Send, status: int, code: str, message: str, extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """The project's one error shape, {"error": {"code", "message", "fields"}}."""
    await send_json(
        send, status, {"error": {"code": code, "message": message, "fields": {}}}, extra
    )


class RequestLimits:
    """Body caps and the data-plane database deadline; see the module docstring."""

    def __init__(self, app: ASGIApp, conf: OpsSettings | None = None) -> None:
        self.app = app
        self.conf = conf or ops_settings()
        self.caps = sorted(self.conf.BODY_CAPS, key=lambda item: len(item[0]), reverse=True)

    def cap_for(self, path: str) -> int:
        for prefix, cap in self.caps:
            if path.startswith(prefix):
                return int(cap)
        return self.conf.MAX_BODY_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await _too_large(send, cap)
            return
        with contextlib.ExitStack() as stack:
            if scope["path"].startswith(DEADLINE_PREFIXES):
                stack.enter_context(deadline.request_deadline(self.conf.DB_REQUEST_DEADLINE))
            await self._capped(scope, receive, send, cap)

    async def _capped(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        received = 0
        overflow = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, overflow
            if overflow:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    overflow = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if overflow and not started:
                return  # the 413 below answers instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not (overflow and not started):
                raise
        if overflow and not started:
            await _too_large(send, cap)


async def _too_large(send: Send, cap: int) -> None:
    message = f"the request body is larger than {cap} bytes"
    await send_error(send, 413, "request_too_large", message, ((b"connection", b"close"),))


def limit(app: ASGIApp) -> RequestLimits:
    """config.asgi: ``application = limit(wrap(mount(django_application)))``."""
    return RequestLimits(app)
