"""Which proxies' forwarded headers are believed, and the one client address the code uses.

The ASGI server (uvicorn, or gunicorn's uvicorn workers) rewrites the client address from
X-Forwarded-For only when the TCP peer is in TRUSTED_PROXIES; everything downstream (the /metrics
allow-list, the admin login lockout, logs) reads that address and never a header itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import Any

from django.http import HttpRequest


def forwarded_allow_ips(environ: Mapping[str, str] | None = None) -> str:
    """The servers' `forwarded_allow_ips`: TRUSTED_PROXIES, or "" (trust nobody) when unset.

    Launchers must pass this explicitly: uvicorn and gunicorn otherwise trust loopback, and the
    tunnel's requests come from loopback.
    """
    raw = (environ if environ is not None else os.environ).get("TRUSTED_PROXIES", "")
    return ",".join(part.strip() for part in raw.split(",") if part.strip())


def client_address(request: HttpRequest) -> str | None:
    """The client's address as the server determined it (see the module docstring)."""
    return request.META.get("REMOTE_ADDR") or None


# Set on the ASGI scope of every request that arrived through the tunnel's upstream listener
# (mcp_bridge.asgi.McpOnly): all of them share the connector's address.
VIA_TUNNEL = "inventory.via_tunnel"

# Login failures (django-axes) are counted per username and per client address ...
LOCKOUT_PARAMETERS: list[str | list[str]] = ["username", "ip_address"]
# ... except through the tunnel, where every client has the connector's address: an address
# lockout there would let anyone lock every keeper out of the consent login; the pair counts
# (which, with one shared address, is the username).
TUNNEL_LOCKOUT_PARAMETERS: list[str | list[str]] = [["username", "ip_address"]]


def lockout_parameters(
    request: Any, credentials: Mapping[str, Any] | None = None
) -> list[str | list[str]]:
    """AXES_LOCKOUT_PARAMETERS: what a failed login is counted against (see above)."""
    scope = getattr(request, "scope", None) or {}
    return TUNNEL_LOCKOUT_PARAMETERS if scope.get(VIA_TUNNEL) else LOCKOUT_PARAMETERS


# Headers a client could use to claim another address, scheme or host.
FORWARDED_HEADERS = frozenset(
    {b"forwarded", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-real-ip"}
)


def without_forwarded_headers(scope: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The scope minus the forwarded headers, which the server has already applied if trusted.

    Then nothing downstream (Django's SECURE_PROXY_SSL_HEADER, a library reading
    X-Forwarded-For) can believe an untrusted peer's claim: a trusted proxy's scheme and
    address are already in scope["scheme"] and scope["client"].
    """
    headers = scope.get("headers") or []
    if not any(name.lower() in FORWARDED_HEADERS for name, _ in headers):
        return scope
    kept = [(name, value) for name, value in headers if name.lower() not in FORWARDED_HEADERS]
    return {**scope, "headers": kept}
