"""The OAuth settings, read in one place (`# --- OAuth 2.1 for agents ---` in config/settings/base.py)."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


@dataclass(frozen=True)
class OAuthSettings:
    enabled: bool
    # host[:port] (lower case) -> scheme, for public origins the server cannot see the scheme of
    public_schemes: dict[str, str]


def oauth_settings() -> OAuthSettings:
    schemes = {}
    for origin in getattr(settings, "MCP_OAUTH_PUBLIC_ORIGINS", ()):
        parts = urlsplit(origin)
        if parts.scheme in ("http", "https") and parts.netloc:
            schemes[parts.netloc.lower()] = parts.scheme
    return OAuthSettings(
        enabled=bool(getattr(settings, "MCP_OAUTH_ENABLED", True)), public_schemes=schemes
    )
