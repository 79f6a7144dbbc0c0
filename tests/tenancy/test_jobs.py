"""`@tenant_job`: the fan-out visits every active tenant, each run is inside its tenant's schema
with its log context, and one tenant's failure does not stop the others (run through Celery,
eagerly, with errors propagating so that only the helper can isolate them)."""

import logging

from django.db import connection

from config import celery_app
from ops import context
from tenancy.jobs import active_tenant_schemas, tenant_job

FAILING: list[str] = []
RAN: list[tuple[str, str, str | None]] = []


@tenant_job("tests.tenancy.test_jobs.probe")
def probe(task, tenant) -> str:  # noqa: ANN001
    """Records where it ran; fails for the tenants in FAILING."""
    if tenant.schema_name in FAILING:
        raise RuntimeError(f"probe failed in {tenant.schema_name}")
    current = context.current()
    RAN.append((tenant.schema_name, connection.schema_name, current.tenant if current else None))
    return tenant.schema_name


def test_one_failing_tenant_does_not_stop_the_others(tenant_a, tenant_b, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.ERROR, logger="tenancy.jobs")
    FAILING[:] = [tenant_a.schema_name]  # the first tenant visited
    RAN.clear()
    schema_before = connection.schema_name
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)
    try:
        queued = probe.for_all.apply().get()
    finally:
        celery_app.conf.update(task_always_eager=False, task_eager_propagates=False)
    schemas = active_tenant_schemas()
    assert tenant_a.schema_name in schemas and tenant_b.schema_name in schemas
    assert queued == len(schemas) - 1
    others = [s for s in schemas if s != tenant_a.schema_name]
    assert [(s, s, s) for s in others] == RAN  # its own schema and log context, each
    failures = [r.getMessage() for r in caplog.records if r.name == "tenancy.jobs"]
    assert f"job tests.tenancy.test_jobs.probe failed for tenant {tenant_a.schema_name}" in failures
    assert connection.schema_name == schema_before  # the caller's schema is given back


def test_an_inactive_or_unknown_tenant_is_skipped() -> None:
    assert probe.for_tenant.apply(args=["no_such_tenant"]).get() == {
        "tenant": "no_such_tenant",
        "skipped": "no such active tenant",
    }
