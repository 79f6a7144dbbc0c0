"""Validation of tenant fields: schema names (stricter than PostgreSQL's own rules), time zones."""

import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.http import is_same_domain

SCHEMA_RULE = (
    "a schema name is 1-63 characters of lower-case ASCII letters, digits and '_', "
    "starts with a letter, and is not reserved (public, information_schema, pg_*)"
)
_SCHEMA_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")
RESERVED_SCHEMAS = frozenset({"public", "information_schema"})


def validate_schema_name(value: str) -> str:
    """Return value if it is an allowed tenant schema name, else raise ValidationError."""
    if (
        not isinstance(value, str)
        or not _SCHEMA_RE.fullmatch(value)
        or value in RESERVED_SCHEMAS
        or value.startswith("pg_")
    ):
        raise ValidationError(
            f"invalid schema name {value!r}: {SCHEMA_RULE}", code="invalid_schema"
        )
    return value


DOMAIN_RULE = (
    "a tenant domain is a host name (letters, digits and '-' in dot-separated labels of 1-63 "
    "characters, 253 at most), not an IP address, not 'localhost', and not one of "
    "MCP_ALLOWED_HOSTS"
)
_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def validate_tenant_domain(value: str) -> str:
    """Return value as a normalised tenant host name, else raise ValidationError.

    A tenant's domain decides which schema a request reaches, so it must never capture a host
    the platform itself answers on: an IP address, `localhost`, or a name the MCP endpoint
    accepts without a tenant (MCP_ALLOWED_HOSTS, e.g. the tunnel's upstream address).
    """
    host = value.strip().lower().removesuffix(".") if isinstance(value, str) else ""
    labels = host.split(".")
    if (
        not host
        or len(host) > 253
        or not all(_LABEL_RE.fullmatch(label) for label in labels)
        or labels[-1].isdigit()  # 10.0.0.1, and 127.1 which resolvers read as an IPv4 address
        or host == "localhost"
        or _mcp_allowed(host)
    ):
        raise ValidationError(f"invalid domain {value!r}: {DOMAIN_RULE}", code="invalid_domain")
    return host


def _mcp_allowed(host: str) -> bool:
    patterns = [p.lower() for p in settings.MCP_ALLOWED_HOSTS if p != "*"]
    return any(is_same_domain(host, pattern) for pattern in patterns)


def validate_time_zone(value: str) -> str:
    """Return value if it names an IANA time zone this machine knows, else ValidationError."""
    if not isinstance(value, str) or value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin",
            code="invalid_time_zone",
        )
    return value
