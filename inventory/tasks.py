"""Celery tasks of the inventory app (thin): the per-tenant low-stock job and its webhook.

Beat runs ``low_stock_scan_all`` every LOW_STOCK_INTERVAL seconds; it queues one
``low_stock_scan`` per active tenant, each of which runs in that tenant's schema and, when the
tenant configured a webhook, queues ``low_stock_webhook`` (retried with exponential backoff).
Follow-up tasks go to the queue their parent came from.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django_tenants.utils import tenant_context

from inventory import reports
from inventory.models import LowStockReport
from ops import context
from ops.conf import ops_settings
from tenancy.selectors import tenant_get

_conf = ops_settings()


def _task_id(task: Task) -> dict[str, str]:
    """The task id as the log lines' request_id (a fresh one when run eagerly)."""
    return {"request_id": task.request.id} if task.request.id else {}


def _queue_of(task: Task) -> str | None:
    """The queue this task was delivered from (None when run eagerly)."""
    return (task.request.delivery_info or {}).get("routing_key") or None


@shared_task(name="inventory.tasks.low_stock_scan_all", bind=True, ignore_result=True)
def low_stock_scan_all(self: Task) -> int:
    """Queue one low-stock scan per active tenant; returns how many were queued."""
    schemas = reports.job_tenant_schemas()
    for schema in schemas:
        low_stock_scan.apply_async(args=[schema], queue=_queue_of(self))
    return len(schemas)


@shared_task(name="inventory.tasks.low_stock_scan", bind=True)
def low_stock_scan(self: Task, schema_name: str) -> dict[str, Any]:
    """Store a low-stock report in one tenant's schema; queue its webhook delivery if wanted."""
    tenant = tenant_get(schema_name=schema_name)
    if tenant is None:
        return {"tenant": schema_name, "skipped": "no such active tenant"}
    with context.bound(tenant=schema_name, **_task_id(self)), tenant_context(tenant):
        report = reports.low_stock_report_create()
    if report.webhook_status == "pending":
        low_stock_webhook.apply_async(args=[schema_name, report.pk], queue=_queue_of(self))
    return {"tenant": schema_name, "report": report.pk, "items": report.item_count}


class _WebhookTask(Task):
    """Marks the report failed when the last retry fails (or a delivery is refused)."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        schema_name, report_id = args[0], args[1]
        tenant = tenant_get(schema_name=schema_name)
        if tenant is None:
            return
        with tenant_context(tenant):
            report = LowStockReport.objects.filter(pk=report_id).first()
            if report is not None:
                reports.low_stock_webhook_give_up(report=report, error=f"gave up: {exc}")


@shared_task(
    name="inventory.tasks.low_stock_webhook",
    bind=True,
    base=_WebhookTask,
    autoretry_for=(reports.WebhookError,),
    retry_backoff=True,  # 1 s, 2 s, 4 s ... with full jitter, capped below
    retry_backoff_max=_conf.WEBHOOK_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=_conf.WEBHOOK_MAX_RETRIES,
    acks_late=True,
)
def low_stock_webhook(self: Task, schema_name: str, report_id: int) -> str:
    """POST one stored report to its tenant's webhook."""
    tenant = tenant_get(schema_name=schema_name)
    if tenant is None:
        return "skipped: no such active tenant"
    with context.bound(tenant=schema_name, **_task_id(self)), tenant_context(tenant):
        report = LowStockReport.objects.filter(pk=report_id).first()
        if report is None:
            return "skipped: report pruned"
        reports.low_stock_webhook_deliver(report=report)
    return "delivered"
