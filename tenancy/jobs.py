"""`@tenant_job`: a Celery job that runs once per active tenant, written once.

    @tenant_job("inventory.tasks.low_stock_scan")
    def low_stock_scan(task: Task, tenant: Tenant) -> dict[str, Any]:
        ...  # runs inside `tenant`'s schema

makes two tasks: `<name>` runs the body for one tenant (by schema name), and `<name>_all` fans
out, queueing one `<name>` per active tenant on the queue it was itself delivered from. The
per-tenant task looks the tenant up again (a tenant deactivated since is skipped), enters its
schema, and binds the log context (tenant, and the task id as request_id). One tenant's failure
stays that tenant's: its own task fails (and is logged with its tenant), and the fan-out goes on
to the next tenant even when queueing one fails. Beat schedules the `_all` task
(config/settings/base.py, CELERY_BEAT_SCHEDULE).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from celery import Task, shared_task
from django_tenants.utils import get_public_schema_name, tenant_context

from ops import context
from tenancy.models import Tenant
from tenancy.selectors import tenant_get

logger = logging.getLogger(__name__)

FAN_OUT_SUFFIX = "_all"


@dataclass(frozen=True)
class TenantJob:
    """The two tasks of one job: `for_tenant` (args: schema_name) and `for_all` (no args)."""

    for_tenant: Task
    for_all: Task


def active_tenant_schemas() -> list[str]:
    """Schema names of the active tenants, in order: the tenants a per-tenant job visits."""
    return list(
        Tenant.objects.filter(is_active=True)
        .exclude(schema_name=get_public_schema_name())
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )


def task_log_context(task: Task) -> dict[str, str]:
    """The task id as the log lines' request_id (a fresh one when run eagerly)."""
    return {"request_id": task.request.id} if task.request.id else {}


def queue_of(task: Task) -> str | None:
    """The queue this task was delivered from (None when run eagerly): follow-ups go there too."""
    return (task.request.delivery_info or {}).get("routing_key") or None


@contextmanager
def in_tenant(task: Task, tenant: Tenant) -> Iterator[Tenant]:
    """Inside `tenant`'s schema with the task's log context bound (for a job's follow-up tasks,
    which carry the schema name themselves)."""
    with context.bound(tenant=tenant.schema_name, **task_log_context(task)), tenant_context(tenant):
        yield tenant


def tenant_job(name: str, **task_options: Any) -> Callable[[Callable[..., Any]], TenantJob]:
    """Register `body(task, tenant)` as a per-tenant job named `name` (see the module docstring).
    `task_options` go to the per-tenant task (retries, acks_late ...)."""

    def register(body: Callable[..., Any]) -> TenantJob:
        @shared_task(name=name, bind=True, **task_options)
        def for_tenant(self: Task, schema_name: str) -> Any:
            tenant = tenant_get(schema_name=schema_name)
            if tenant is None:
                return {"tenant": schema_name, "skipped": "no such active tenant"}
            with in_tenant(self, tenant):
                try:
                    return body(self, tenant)
                except Exception:
                    logger.exception("job %s failed for tenant %s", name, schema_name)
                    raise

        @shared_task(name=name + FAN_OUT_SUFFIX, bind=True, ignore_result=True)
        def for_all(self: Task) -> int:
            queued = 0
            for schema in active_tenant_schemas():
                try:
                    for_tenant.apply_async(args=[schema], queue=queue_of(self))
                except Exception:
                    logger.exception("job %s: tenant %s not run", name, schema)
                    continue
                queued += 1
            return queued

        for_tenant.__doc__ = for_all.__doc__ = body.__doc__
        return TenantJob(for_tenant=for_tenant, for_all=for_all)

    return register
