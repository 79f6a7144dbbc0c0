"""Celery tasks of the inventory app (thin): the per-tenant low-stock job and its webhook.

Beat runs ``low_stock_scan_all`` every LOW_STOCK_INTERVAL seconds; `@tenant_job` makes it queue
one ``low_stock_scan`` per active tenant, each of which runs in that tenant's schema and, when
the tenant configured a webhook, queues ``low_stock_webhook`` (retried with exponential backoff).
Follow-up tasks go to the queue their parent came from.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from inventory import low_stock
from inventory.models import LowStockReport, WebhookStatus
from ops.conf import ops_settings
from tenancy.jobs import in_tenant, queue_of, tenant_job
from tenancy.models import Tenant
from tenancy.selectors import tenant_get

_conf = ops_settings()


@tenant_job("inventory.tasks.low_stock_scan")
def _low_stock_scan(task: Task, tenant: Tenant) -> dict[str, Any]:
    """Store a low-stock report in one tenant's schema; queue its webhook delivery if wanted."""
    report = low_stock.low_stock_report_create()
    if report.webhook_status == WebhookStatus.PENDING:
        low_stock_webhook.apply_async(args=[tenant.schema_name, report.pk], queue=queue_of(task))
    return {"tenant": tenant.schema_name, "report": report.pk, "items": report.item_count}


low_stock_scan = _low_stock_scan.for_tenant
low_stock_scan_all = _low_stock_scan.for_all


class _WebhookTask(Task):
    """Marks the report failed when the last retry fails (or a delivery is refused)."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        schema_name, report_id = args[0], args[1]
        tenant = tenant_get(schema_name=schema_name)
        if tenant is None:
            return
        with in_tenant(self, tenant):
            report = LowStockReport.objects.filter(pk=report_id).first()
            if report is not None:
                low_stock.low_stock_webhook_give_up(report=report, error=f"gave up: {exc}")


@shared_task(
    name="inventory.tasks.low_stock_webhook",
    bind=True,
    base=_WebhookTask,
    autoretry_for=(low_stock.WebhookError,),
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
    with in_tenant(self, tenant):
        report = LowStockReport.objects.filter(pk=report_id).first()
        if report is None:
            return "skipped: report pruned"
        low_stock.low_stock_webhook_deliver(report=report)
    return "delivered"
