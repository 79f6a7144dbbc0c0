"""psycopg connection parameters taken from Django's own database settings.

One source for every raw psycopg connection the service or its tests open beside the ORM
(/readyz, the test session's CREATE DATABASE): whatever Django connects to -- a unix socket
directory given as `?host=` in DATABASE_URL, or TCP host and port -- with its options included.
"""

from typing import Any

from django.db import connections

# Django-specific connection arguments that a plain psycopg connection does not want.
_DJANGO_ONLY = ("cursor_factory", "context")


def psycopg_conninfo(alias: str = "default", **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for `psycopg.connect` reaching the database Django uses for `alias`.

    `overrides` replace or add parameters (`dbname="postgres"`, `autocommit=True` ...); an
    `options` override is appended to Django's own options, so later `-c` settings win.
    """
    params = dict(connections[alias].get_connection_params())
    for key in _DJANGO_ONLY:
        params.pop(key, None)
    extra_options = overrides.pop("options", None)
    if extra_options:
        params["options"] = f"{params.get('options', '')} {extra_options}".strip()
    params.update(overrides)
    return params


def socket_path_or_address(alias: str = "default") -> str | tuple[str, int]:
    """Where the database listens: the unix socket file, or (host, port) for TCP."""
    params = psycopg_conninfo(alias)
    host = str(params.get("host") or "")
    port = int(params.get("port") or 5432)
    if not host or host.startswith("/"):
        return f"{host or '/var/run/postgresql'}/.s.PGSQL.{port}"
    return host, port
