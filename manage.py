#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

An unreachable database or Redis ends a command with one line and exit status 2, not a traceback.
"""

import logging
import os
import sys


def _unreachable(exc: BaseException) -> str | None:
    """One line for a database or Redis that cannot be reached; None for any other error."""
    from django.db import InterfaceError, OperationalError
    from psycopg import errors

    from devtools.embedded import NO_DATABASE_HINT, recorded_services

    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    if isinstance(exc, OperationalError | InterfaceError) and not isinstance(
        exc.__cause__, errors.QueryCanceled
    ):
        if not os.environ.get("DATABASE_URL") and not recorded_services():
            return f"no database: `make run` is not running here; {NO_DATABASE_HINT}"
        return f"cannot reach the database ({reason}): {NO_DATABASE_HINT}"
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout

    if isinstance(exc, RedisConnectionError | RedisTimeout | BrokerError):
        return f"cannot reach Redis ({reason}): start `make run` or set REDIS_URL"
    return None


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    # The pool's per-attempt warnings would bury the one line below; its final error is kept.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except Exception as exc:
        line = _unreachable(exc)
        if line is None:
            raise
        command = sys.argv[1] if len(sys.argv) > 1 else "manage.py"
        print(f"{command}: {line}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
