"""One ASGI application: /mcp (and /mcp/) to the MCP endpoint, everything else to Django.

Also answers the ASGI lifespan (Django's handler does not), which is where the SDK's Streamable
HTTP session manager is started and stopped.
"""

import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import RequestBodyLimitMiddleware, TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_bridge.conf import McpSettings, mcp_settings
from mcp_bridge.http import McpGate
from mcp_bridge.oauth.conf import oauth_settings
from mcp_bridge.oauth.metadata import is_metadata_path, send_oauth_metadata
from mcp_bridge.oauth.resources import TENANT_MCP_PATH, TUNNEL_OAUTH_PATH
from mcp_bridge.resource_metadata import METADATA_PATH
from mcp_bridge.server import build_server
from ops.limits import send_error
from ops.proxies import VIA_TUNNEL

logger = logging.getLogger(__name__)

# Django's ASGIHandler is typed with plain dicts rather than Starlette's Scope/Message aliases.
AnyASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

MCP_PATHS = frozenset({"/mcp", "/mcp/"})
METADATA_PATHS = frozenset({METADATA_PATH, METADATA_PATH + "/mcp"})
# RFC 8414 authorization-server metadata: reserved on the tunnel for an OAuth flow.
AUTH_SERVER_METADATA_PATHS = frozenset(
    {"/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/mcp"}
)
TUNNEL_PATHS = MCP_PATHS | METADATA_PATHS | AUTH_SERVER_METADATA_PATHS


def is_mcp_path(path: str) -> bool:
    """/mcp, or a tenant's /t/<schema>/mcp (mcp_bridge.oauth.resources)."""
    return path in MCP_PATHS or TENANT_MCP_PATH.fullmatch(path) is not None


def tunnel_allows(path: str) -> bool:
    """What the tunnel carries: /mcp, the metadata, and the OAuth endpoints a remote client and
    the keeper's browser need (authorize, consent login, token, registration, revocation)."""
    return (
        path in TUNNEL_PATHS or is_mcp_path(path) or TUNNEL_OAUTH_PATH.fullmatch(path) is not None
    )


def build_mcp_http(conf: McpSettings) -> tuple[ASGIApp, StreamableHTTPSessionManager]:
    """The gated MCP handler and the session manager that must run while it serves."""
    server = build_server(allowlist=conf.tool_allowlist)
    # Stateless with JSON responses: no session affinity, so any worker can answer any request.
    # Host and Origin are checked by McpGate (per tenant), so the SDK's static check is off.
    server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        max_request_body_size=conf.max_body_bytes,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    gated = McpGate(manager.handle_request, conf)
    # The body cap runs first, so an oversized request costs no database lookup.
    return RequestBodyLimitMiddleware(gated, conf.max_body_bytes), manager


class Router:
    """Dispatch by path; run the MCP session manager for the lifetime of the server."""

    def __init__(self, django_app: AnyASGIApp, conf: McpSettings | None = None) -> None:
        self.conf = conf or mcp_settings()
        self.django_app = django_app
        self.mcp_app, self.manager = build_mcp_http(self.conf)
        self.running = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and is_mcp_path(scope["path"]):
            await (self.mcp_app if self.running else _not_started)(scope, receive, send)
        elif scope["type"] == "http" and (
            scope["path"] in METADATA_PATHS or is_metadata_path(scope["path"])
        ):
            await send_oauth_metadata(scope, receive, send, self.conf)
        elif scope["type"] == "http" and scope["path"] in AUTH_SERVER_METADATA_PATHS:
            # Each tenant's authorization server has a path (/t/<schema>/oauth), so its metadata
            # is at this path plus that suffix; the bare path is a 404 in the API's error shape,
            # never Django's (DEBUG) page listing the URL patterns.
            await send_error(send, 404, "not_found", "authorization servers are per tenant")
        else:
            await self.django_app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.manager.run())
            except Exception as exc:
                logger.exception("MCP session manager failed to start")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            self.running = True
            await send({"type": "lifespan.startup.complete"})
            message = await receive()  # lifespan.shutdown
            self.running = False
        await send({"type": "lifespan.shutdown.complete"})


async def _not_started(scope: Scope, receive: Receive, send: Send) -> None:
    # The SDK's session manager only runs inside the ASGI lifespan; say so instead of a 500.
    logger.error("/mcp called but the ASGI lifespan did not run: start the server with lifespan on")
    response = JSONResponse({"error": "mcp endpoint not started"}, status_code=503)
    await response(scope, receive, send)


class McpOnly:
    """The tunnel's upstream: /mcp, the OAuth metadata and endpoints (`tunnel_allows`), 404 for
    every other path.

    Whatever the Host: the admin, the REST API, its docs and the probes stay on the internal
    port (config.asgi.application), which the tunnel never forwards to.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not tunnel_allows(scope["path"]):
            if scope["type"] == "http":
                await send_error(send, 404, "not_found", "only /mcp is served here")
            return  # a websocket not accepted is refused (403) by the server
        await self.app(tunnelled(scope) if scope["type"] == "http" else scope, receive, send)


def tunnelled(scope: Scope) -> Scope:
    """The scope as the app should see a tunnelled request: marked (ops.proxies.VIA_TUNNEL), and
    https when MCP_OAUTH_PUBLIC_ORIGINS says the edge serves this host over TLS. The connector
    speaks plain http on loopback, so without this Django would redirect the keeper's consent
    pages to https for ever (SECURE_SSL_REDIRECT) and refuse their https Origin (CSRF)."""
    host = Headers(scope=scope).get("host", "").lower()
    scheme = oauth_settings().public_schemes.get(host, scope.get("scheme", "http"))
    return {**scope, VIA_TUNNEL: True, "scheme": scheme}


def mount(django_app: AnyASGIApp) -> Router:
    """Wrap Django's ASGI application so /mcp is served beside it on the same port."""
    return Router(django_app)
