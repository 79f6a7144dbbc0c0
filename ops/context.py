"""Per-request log context (request id, tenant, token name) in a contextvar, and its log filter.

The ASGI layer (ops.asgi) starts a context for every HTTP request, Django's or /mcp's.
The object is mutable and shared by reference, so what the Django middleware or the MCP gate
learns later (the tenant, the token) is seen by every log line of that request, including lines
from worker threads: asgiref and anyio copy the contextvars into the threads they run.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._\-]{1,64}")
# Where an ASGI gate in front of Django (the MCP gate) leaves the caller it authenticated: any
# object with `schema_name` and `credential_name` (mcp_bridge.principal.Principal).
CALLER_SCOPE_KEY = "mcp_bridge.principal"


@dataclass
class RequestContext:
    """What the logs say about the request (or task) being served. Never holds a secret."""

    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    tenant: str | None = None
    token_name: str | None = None
    route: str | None = None
    scope: dict[str, Any] | None = None  # the ASGI scope, to find the gate's caller lazily

    def resolve(self) -> tuple[str | None, str | None]:
        """(tenant, token_name), falling back to the caller a gate put in the scope."""
        tenant, token_name = self.tenant, self.token_name
        principal = (self.scope or {}).get(CALLER_SCOPE_KEY)
        if principal is not None:
            tenant = tenant or getattr(principal, "schema_name", None)
            token_name = token_name or getattr(principal, "credential_name", None)
        return tenant, token_name


_current: ContextVar[RequestContext | None] = ContextVar("ops_request_context", default=None)


def current() -> RequestContext | None:
    """The context of the request or task being served, if any."""
    return _current.get()


def clean_request_id(value: str | None) -> str:
    """A caller's X-Request-ID if it is short and plain, else a fresh one."""
    if value and _REQUEST_ID_RE.fullmatch(value):
        return value
    return uuid.uuid4().hex


@contextlib.contextmanager
def bound(**values: Any) -> Iterator[RequestContext]:
    """Run a block (a request, a Celery task) with a fresh context carrying `values`."""
    ctx = RequestContext(**values)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


class RequestContextFilter(logging.Filter):
    """Adds request_id, tenant and token_name to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _current.get()
        tenant, token_name = ctx.resolve() if ctx else (None, None)
        if not hasattr(record, "request_id"):
            record.request_id = ctx.request_id if ctx else None
        if not hasattr(record, "tenant"):
            record.tenant = tenant
        if not hasattr(record, "token_name"):
            record.token_name = token_name
        return True
