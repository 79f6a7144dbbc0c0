"""Calling an ASGI app (a middleware, the gate) in process: one request, the whole answer."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    """What the app sent, and what the wrapped app (if any) received."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    inner_scope: dict[str, Any] | None = None  # the scope the inner app saw; None: not reached
    inner_body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


class Inner:
    """The app behind a middleware: records that it was reached and what body it read."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        self.answer.inner_scope = scope
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.answer.inner_body = b"".join(chunks)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"inner"})


def request(
    middleware: Any,
    *,
    method: str = "POST",
    path: str = "/mcp",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    client: tuple[str, int] = ("127.0.0.1", 50000),
) -> Answer:
    """Run one HTTP request through `middleware(Inner)`; `middleware` builds the app from the
    inner app (e.g. `lambda app: McpGate(app, conf)`)."""
    answer = Answer()
    app = middleware(Inner(answer))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "scheme": "http",
        "client": client,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        else:
            answer.body += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return answer
