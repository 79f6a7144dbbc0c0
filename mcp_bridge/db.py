"""Running ORM work for one tenant on the current (worker) thread, and naming database failures."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg.errors
from django.db import DatabaseError, close_old_connections
from django_tenants.utils import schema_context

UNAVAILABLE = "inventory database unavailable"
TIMED_OUT = "inventory database timed out"


@contextmanager
def tenant_db(schema_name: str) -> Iterator[None]:
    """Enter `schema_name` on this thread's connection for the duration of the block.

    django-tenants keeps the schema on the per-thread connection and MCP tools run on worker
    threads, so this must run in the thread that queries. Like a Django request, it closes the
    thread's connection if it is broken or older than CONN_MAX_AGE, before and after; and
    schema_context puts the connection back in the public schema on exit, so a reused worker
    thread never starts in a previous caller's tenant.
    """
    close_old_connections()
    try:
        with schema_context(schema_name):
            yield
    finally:
        close_old_connections()


def describe_db_error(exc: DatabaseError) -> str:
    """A short, secret-free reason for a failed query: timed out (statement_timeout) or unavailable."""
    if isinstance(exc.__cause__, psycopg.errors.QueryCanceled):
        return TIMED_OUT
    return UNAVAILABLE
