"""Validation of tenant fields: schema names (stricter than PostgreSQL's own rules), time zones."""

import re
import zoneinfo

from django.core.exceptions import ValidationError

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


def validate_time_zone(value: str) -> str:
    """Return value if it names an IANA time zone this machine knows, else ValidationError."""
    if not isinstance(value, str) or value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin",
            code="invalid_time_zone",
        )
    return value
