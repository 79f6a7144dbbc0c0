"""Production settings: secure by default, and refuse to start while insecure.

Every knob below comes from the environment (deploy/production.env.example lists them); the
defaults are the safe values, so a deployment that sets nothing extra gets HTTPS-only cookies,
HSTS, the SSL redirect, and a /metrics that only its bearer token opens.
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    ALLOWED_HOSTS,
    DEV_SECRET_KEY,
    MCP_ALLOWED_HOSTS,
    OPERATIONS,
    SECRET_KEY,
    TRUSTED_PROXIES,
    env,
)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Words that mark a secret copied from documentation rather than generated.
_PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "placeholder", "example", "insecure")


def _secret_problem(secret: str) -> str | None:
    lowered = secret.lower()
    if (
        secret == DEV_SECRET_KEY
        or len(secret) < 50
        or len(set(secret)) < 5
        or any(word in lowered for word in _PLACEHOLDER_WORDS)
    ):
        return (
            "DJANGO_SECRET_KEY must be a generated random value of 50+ characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), not a known one"
        )
    return None


def _problems() -> list[str]:
    found = []
    if DEBUG:
        found.append("DJANGO_DEBUG must be off")
    if secret := _secret_problem(SECRET_KEY):
        found.append(secret)
    if not env.list("DJANGO_ALLOWED_HOSTS", default=[]):
        found.append("DJANGO_ALLOWED_HOSTS must be set explicitly")
    for name, values in (
        ("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS),
        ("MCP_ALLOWED_HOSTS", MCP_ALLOWED_HOSTS),
        ("TRUSTED_PROXIES", TRUSTED_PROXIES),
    ):
        if "*" in values:
            found.append(f"{name} must not contain '*': list the names or addresses")
    return found


if _problems():
    raise ImproperlyConfigured("insecure production settings: " + "; ".join(_problems()))

# HTTPS only. The TLS proxy in front sets X-Forwarded-Proto; the ASGI server believes it only
# from TRUSTED_PROXIES and drops it otherwise (ops/proxies.py), so it cannot be spoofed.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("SECURE_PROXY_SSL_HEADER", default=True)
    else None
)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# /metrics answers only to METRICS_TOKEN in production; METRICS_ALLOW_FROM alone is not enough.
OPERATIONS = {
    **OPERATIONS,
    "METRICS_REQUIRE_TOKEN": env.bool("METRICS_REQUIRE_TOKEN", default=True),
}
