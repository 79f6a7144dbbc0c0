"""The ASGI gate in front of the SDK's Streamable HTTP handler: Origin, bearer auth, Host, throttle.

Order: Origin (403) -> method (405: only POST in stateless JSON mode) -> Authorization (401 +
WWW-Authenticate: Bearer) -> the client address's failed attempts (429 past AUTH_FAILURE_RATE)
-> token, scope and Host checked together (the same 401 for each failure, so the answer is no
oracle for which one it was; each counts as a failed attempt) -> per-token throttle (429).
A static token and Host that this process's caches already verified (tenancy.selectors, emptied
in every process on any change) are checked on the event loop, with the in-memory throttle: no
thread hop. Anything else -- a cache miss, an OAuth token, a refusal -- is decided on a worker
thread, with the database.
The body cap (413) wraps all of this; see `mcp_bridge.asgi`.

Origins: MCP_ALLOWED_ORIGINS, plus any loopback Origin (localhost, *.localhost, 127.0.0.0/8,
[::1]) when the request's Host is loopback too -- a browser client on this machine talking to a
development server. A DNS-rebinding page has its own, non-loopback Origin and Host, so it is
still refused. Throttle: `tools/call` requests count against the token's rate (MCP_RATE, shared
with REST); protocol housekeeping (initialize, notifications, tools/list, ping) has its own,
generous one (MCP_PROTOCOL_RATE), so a client's handshakes never use up its tool calls.
"""

import ipaddress
import json
import logging
from urllib.parse import urlsplit

import anyio.to_thread
from django.http.request import split_domain_port
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_bridge.conf import McpSettings
from mcp_bridge.principal import SCOPE_KEY, Principal
from ops.limits import send_json

logger = logging.getLogger(__name__)

ADDRESS_LIMITED = 4290  # internal: a 429 from the per-address failed-auth limit, not the token's


class McpGate:
    """ASGI middleware that lets only an authenticated, tenant-consistent request through."""

    def __init__(self, app: ASGIApp, conf: McpSettings) -> None:
        self.app = app
        self.conf = conf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        host = headers.get("host", "")
        if origin is not None and not origin_allowed(origin, self.conf.allowed_origins, host=host):
            logger.warning("mcp: refused Origin %r", origin[:200])
            await send_json(
                send, 403, {"error": "forbidden", "error_description": "Origin not allowed"}
            )
            return
        if scope["method"] != "POST":
            # Stateless JSON mode: no standalone SSE stream (GET) and no session to end (DELETE).
            body = {"error": "method_not_allowed", "error_description": "use POST"}
            await send_json(send, 405, body, [(b"allow", b"POST")])
            return
        raw = _bearer(headers.get("authorization"))
        if raw is None:
            await self._unauthorized(scope, send, error=None)
            return
        request_body = await _read_body(receive)
        if request_body is None:
            return  # the client went away
        address = (scope.get("client") or ("", 0))[0]
        target = (
            "https" if scope.get("scheme") == "https" else "http",
            scope["path"],
        )  # OAuth audience
        tool_call = _calls_a_tool(request_body)
        principal = self._known(raw, host, scope["path"])
        if principal is not None:  # answered from memory: no thread, no database, no Redis
            wait = self._throttle(principal, tool_call)
            status, retry_after = (429, wait) if wait else (200, 0)
        else:
            principal, status, retry_after = await anyio.to_thread.run_sync(
                self._check, raw, host, address, tool_call, target
            )
        if principal is None or status != 200:
            await self._refuse(scope, send, status, retry_after)
            return
        scope[SCOPE_KEY] = principal
        await self.app(scope, _replay(request_body, receive), send)

    async def _refuse(self, scope: Scope, send: Send, status: int, retry_after: int) -> None:
        if status == 401:
            await self._unauthorized(scope, send, error="invalid_token")
            return
        if status == 403:  # an OAuth token without the mcp scope
            await self._unauthorized(scope, send, error="insufficient_scope", status=403)
            return
        error, description = {
            429: ("rate_limited", "too many requests for this token"),
            ADDRESS_LIMITED: ("rate_limited", "too many failed authentication attempts"),
            503: ("temporarily_unavailable", "credentials cannot be verified right now"),
        }[status]
        body = {"error": error, "error_description": description}
        headers = [(b"retry-after", str(retry_after).encode())]
        await send_json(send, 429 if status == ADDRESS_LIMITED else status, body, headers)

    def _known(self, raw: str, host: str, path: str) -> Principal | None:
        """The caller when the process's caches know its static token and Host (the common case:
        an agent calling again); None sends the request to `_check` on a worker thread."""
        from mcp_bridge.oauth.verify import authenticate_in_memory_request

        return authenticate_in_memory_request(raw_token=raw, host=host, path=path, conf=self.conf)

    def _throttle(self, principal: Principal, tool_call: bool) -> int:
        from mcp_bridge.auth import throttle

        rate = self.conf.rate if tool_call else self.conf.protocol_rate
        return throttle(principal=principal, rate=rate, tool_call=tool_call)

    def _check(
        self, raw: str, host: str, address: str, tool_call: bool, target: tuple[str, str]
    ) -> tuple[Principal | None, int, int]:
        """(principal, HTTP status, Retry-After seconds); runs on a worker thread."""
        from mcp_bridge.oauth.verify import authenticate_request  # ORM: apps are ready by now
        from tenancy.ratelimit import bearer_attempt_failed, bearer_attempt_wait

        # Static `inv_` tokens go to mcp_bridge.auth.authenticate; OAuth tokens to mcp_oauth.
        scheme, path = target
        checked = authenticate_request(
            raw_token=raw, scheme=scheme, host=host, path=path, conf=self.conf
        )
        if checked.insufficient_scope:
            return None, 403, 0
        result = checked.result
        if result.principal is None:
            if result.unavailable:
                return None, 503, 5
            # Past AUTH_FAILURE_RATE an address's failures get 429; a valid token always passes,
            # so junk sent through the tunnel (every agent shares its address) locks nobody out.
            if wait := bearer_attempt_wait(address=address):
                return None, ADDRESS_LIMITED, wait
            bearer_attempt_failed(address=address)
            return None, 401, 5
        wait = self._throttle(result.principal, tool_call)
        return result.principal, 429 if wait else 200, wait

    async def _unauthorized(
        self, scope: Scope, send: Send, *, error: str | None, status: int = 401
    ) -> None:
        from mcp_bridge.oauth.metadata import challenge_params

        # RFC 6750 §3: no error code when the request carried no credential at all.
        parts = ['realm="mcp"']
        if error == "insufficient_scope":
            parts.append(f'error="{error}"')
        elif error:
            parts.append(f'error="{error}"')
            parts.append(
                'error_description="unknown, revoked or expired token, no mcp scope, '
                "or a host outside this token's tenant\""
            )
        # resource_metadata and scope only where the URL names a tenant whose authorization
        # server can issue a token (mcp_bridge.oauth.metadata); elsewhere (a shared host's /mcp, OAuth
        # off) tokens are static, and RFC 9728 discovery would lead into a flow that cannot succeed.
        parts.extend(await challenge_params(scope))
        challenge = "Bearer " + ", ".join(parts)
        description = (
            "the token lacks a needed scope" if status == 403 else "authentication required"
        )
        body = {"error": error or "invalid_request", "error_description": description}
        await send_json(send, status, body, [(b"www-authenticate", challenge.encode("latin-1"))])


def origin_allowed(origin: str, allowed: tuple[str, ...], *, host: str = "") -> bool:
    """A loopback Origin on a loopback Host (development); else an exact match of a pattern, or
    "scheme://host:*" for any port of that host."""
    if _loopback(_origin_host(origin)) and _loopback(split_domain_port(host)[0]):
        return True
    for pattern in allowed:
        if origin == pattern:
            return True
        prefix = pattern[:-1]  # "scheme://host:" when the pattern ends in ":*"
        if pattern.endswith(":*") and origin[len(prefix) :].isdigit() and origin.startswith(prefix):
            return True
    return False


def _origin_host(origin: str) -> str:
    try:
        return urlsplit(origin).hostname or ""
    except ValueError:
        return ""


def _loopback(hostname: str) -> bool:
    """localhost, *.localhost (RFC 6761), or a loopback IP address ([::1] with or without brackets)."""
    name = hostname.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body (the body cap outside this gate bounds it); None on disconnect."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the already-read body on, then waits for the disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _calls_a_tool(body: bytes) -> bool:
    """Whether a JSON-RPC message (or batch) in `body` is a tools/call request."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python's stack
        return False  # the SDK answers it with a parse error: housekeeping
    messages = message if isinstance(message, list) else [message]
    return any(isinstance(m, dict) and m.get("method") == "tools/call" for m in messages)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials else None
