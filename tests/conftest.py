"""Session fixtures: a fresh PostgreSQL database, two tenants, and a live ASGI server.

Two tiers (docs/testing.md): tests/unit/ is the fast tier (in process: no database, no
subprocess, no sleep; `make test-fast`); every other test is marked `integration` here and gets
the session database. `make test` runs both.

Tests write real, committed data (no per-test transaction rollback) because most of them drive
the service through other processes (uvicorn, manage.py, Celery) that must see that data.
Isolation between tests comes from unique SKUs and tenants, not from rollbacks.
"""

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django_tenants.utils import schema_context

from ops.dbconn import psycopg_conninfo
from tests.support import LiveServer, leftover_children, live_server


def _admin_conninfo() -> dict[str, object]:
    """Django's own connection parameters (socket or TCP), on the maintenance database."""
    return psycopg_conninfo(dbname="postgres", autocommit=True)


def _recreate_database(name: str) -> None:
    with psycopg.connect(**_admin_conninfo()) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No process outlives the session: a child still alive now (every fixture has been torn
    down) is killed, named, and fails the run."""
    left = leftover_children()
    if left:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(
            "\nFAILED: the test session left processes running (killed now): " + "; ".join(left),
            file=sys.stderr,
        )


def pytest_configure(config: pytest.Config) -> None:
    # The session drops and recreates its database: never let that be anything but the tests'.
    if settings.SETTINGS_MODULE != "config.settings.test":
        pytest.exit(
            f"tests need config.settings.test, not {settings.SETTINGS_MODULE}", returncode=2
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    name = settings.DATABASES["default"]["NAME"]
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        _recreate_database(name)
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        connections.close_all()
        with psycopg.connect(**_admin_conninfo()) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


UNIT = Path(__file__).resolve().parent / "unit"


def in_fast_tier(path: Path) -> bool:
    """Whether a test file belongs to the fast tier (it lives under tests/unit/)."""
    return path.is_relative_to(UNIT)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark by directory, not by hand: everything outside tests/unit/ is `integration`."""
    for item in items:
        if not in_fast_tier(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def _database_for_the_whole_session(
    request: pytest.FixtureRequest, django_db_blocker: pytest.FixtureRequest
) -> Iterator[None]:
    """Integration tests share one database for the session; a run of the fast tier alone
    never creates it (and tests/unit/conftest.py blocks database access there anyway)."""
    if all(in_fast_tier(item.path) for item in request.session.items):
        yield
        return
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        yield


def provision(schema: str, domain: str | None = None):  # noqa: ANN201
    from tenancy.services import tenant_provision

    return tenant_provision(
        # Host names have no '_' (the domain rule refuses it; so does Django's Host check).
        schema_name=schema,
        domain=domain or f"{schema.replace('_', '-')}.localhost",
        name=schema.title(),
    ).tenant


@pytest.fixture(scope="session")
def tenant_a():  # noqa: ANN201
    return provision("alpha")


@pytest.fixture(scope="session")
def tenant_b():  # noqa: ANN201
    return provision("beta")


@pytest.fixture
def in_tenant_a(tenant_a) -> Iterator[object]:  # noqa: ANN001
    with schema_context(tenant_a.schema_name):
        yield tenant_a


@pytest.fixture
def unique_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture(scope="session")
def server(tenant_a, tenant_b) -> Iterator[LiveServer]:  # noqa: ANN001
    """One uvicorn serving the whole ASGI app (admin, REST, MCP) for the session."""
    with live_server() as srv:
        yield srv
