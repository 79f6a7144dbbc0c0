"""Running ORM work for one tenant on the current (worker) thread, and naming database failures."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg.errors
from django.db import DatabaseError, close_old_connections
from django_tenants.utils import schema_context

from mcp_bridge.principal import Principal

UNAVAILABLE = "inventory database unavailable"
TIMED_OUT = "inventory database timed out"


class UnverifiedCaller(DatabaseError):
    """The caller's token could not be checked against the database just now (a stale principal).

    A DatabaseError, so every tool answers it like any other outage: "cannot be confirmed".
    """


@contextmanager
def tenant_db(principal: Principal) -> Iterator[None]:
    """Enter the caller's schema on this thread's connection for the duration of the block.

    A stale principal (its token lookup failed and a cached one stood in) raises
    UnverifiedCaller before any query: a token revoked just before an outage reads nothing.

    django-tenants keeps the schema on the per-thread connection and MCP tools run on worker
    threads, so this must run in the thread that queries. Like a Django request, it closes the
    thread's connection if it is broken or older than CONN_MAX_AGE, before and after; and
    schema_context puts the connection back in the public schema on exit, so a reused worker
    thread never starts in a previous caller's tenant.
    """
    if principal.stale:
        raise UnverifiedCaller(UNAVAILABLE)
    close_old_connections()
    try:
        with schema_context(principal.schema_name):
            yield
    finally:
        close_old_connections()


def describe_db_error(exc: DatabaseError) -> str:
    """A short, secret-free reason for a failed query: timed out (statement_timeout) or unavailable."""
    if isinstance(exc.__cause__, psycopg.errors.QueryCanceled):
        return TIMED_OUT
    return UNAVAILABLE
