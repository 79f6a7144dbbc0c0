"""The tenant-aware low-stock job: each tenant's report matches that tenant's own data, and the
optional webhook receives it with retries. Run eagerly, and once through a real Celery worker."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from config import celery_app
from inventory import low_stock
from inventory.models import LowStockReport, ReportSettings, WebhookStatus
from inventory.tasks import low_stock_scan_all
from tenancy.jobs import active_tenant_schemas
from tests.support import (
    Proc,
    WebhookReceiver,
    running,
    stock_on_hand,
    subprocess_env,
    wait_until,
)


def _sku(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8].upper()}"


@pytest.fixture
def two_tenants_stock(tenant_a, tenant_b) -> dict[str, dict[str, list[str]]]:  # noqa: ANN001
    """Distinct low and healthy items in alpha and beta; returns the SKUs by tenant and kind."""
    made: dict[str, dict[str, list[str]]] = {}
    for tenant in (tenant_a, tenant_b):
        low, ok = [_sku("LOW"), _sku("ZERO")], [_sku("OK"), _sku("OFF")]
        stock_on_hand(tenant.schema_name, low[0], on_hand=2, reorder_point=5)
        stock_on_hand(tenant.schema_name, low[1], on_hand=0, reorder_point=0)  # at the point is low
        stock_on_hand(tenant.schema_name, ok[0], on_hand=9, reorder_point=5)
        stock_on_hand(tenant.schema_name, ok[1], on_hand=1, reorder_point=5, active=False)
        made[tenant.schema_name] = {"low": low, "ok": ok}
    return made


@pytest.fixture
def webhook(tenant_a) -> Iterator[WebhookReceiver]:  # noqa: ANN001
    receiver = WebhookReceiver(fail_first=2)
    with schema_context(tenant_a.schema_name):
        ReportSettings.objects.all().delete()
        ReportSettings.objects.create(low_stock_webhook_url=receiver.url, webhook_secret="s3")
    try:
        yield receiver
    finally:
        receiver.close()
        with schema_context(tenant_a.schema_name):
            ReportSettings.objects.all().delete()


@pytest.fixture
def allow_loopback_webhooks(settings):  # noqa: ANN001, ANN201
    settings.OPERATIONS = {
        **settings.OPERATIONS,
        "WEBHOOK_ALLOW_PRIVATE": True,
        "WEBHOOK_PORTS": ["*"],  # the test receiver listens on a free high port
    }


def _latest(schema: str, after: int = 0) -> LowStockReport | None:
    with schema_context(schema):
        return LowStockReport.objects.filter(pk__gt=after).order_by("-pk").first()


def _last_pk(schema: str) -> int:
    report = _latest(schema)
    return report.pk if report else 0


def _check_reports_against_own_data(made: dict, before: dict[str, int]) -> None:
    for schema in active_tenant_schemas():
        report = _latest(schema, before.get(schema, 0))
        assert report is not None, f"no new report in {schema}"
        with schema_context(schema):
            expected = low_stock.low_stock_rows()  # the tenant's own data, by the one rule
        assert report.items == expected and report.item_count == len(expected)
    for schema, skus in made.items():
        report = _latest(schema, before[schema])
        reported = {row["sku"] for row in report.items}
        assert set(skus["low"]) <= reported
        assert not set(skus["ok"]) & reported
        others = {s for other, k in made.items() if other != schema for s in k["low"] + k["ok"]}
        assert not others & reported, "a report shows another tenant's items"


def test_eager_run_reports_each_tenant_and_retries_the_webhook(
    two_tenants_stock,
    webhook,
    allow_loopback_webhooks,
    tenant_a,
    tenant_b,  # noqa: ANN001
):
    before = {s: _last_pk(s) for s in active_tenant_schemas()}
    celery_app.conf.task_always_eager = True
    try:
        queued = low_stock_scan_all.apply().get()
    finally:
        celery_app.conf.task_always_eager = False
    assert queued == len(active_tenant_schemas()) >= 2
    _check_reports_against_own_data(two_tenants_stock, before)

    alpha = _latest(tenant_a.schema_name, before[tenant_a.schema_name])
    assert alpha.webhook_status == WebhookStatus.DELIVERED
    assert alpha.webhook_attempts == 3 and webhook.attempts == 3  # two 503s, then delivered
    [delivery] = webhook.received
    assert delivery["body"]["tenant"] == tenant_a.schema_name
    assert delivery["body"]["report_id"] == alpha.pk and delivery["body"]["items"] == alpha.items
    assert delivery["headers"]["X-Inventory-Delivery"] == f"{tenant_a.schema_name}:{alpha.pk}"
    assert delivery["headers"]["X-Inventory-Signature"].startswith("sha256=")
    beta = _latest(tenant_b.schema_name, before[tenant_b.schema_name])
    assert beta.webhook_status == WebhookStatus.NONE  # beta configured no webhook


def test_webhook_to_a_private_address_is_refused_by_default(tenant_a, webhook):  # noqa: ANN001
    with schema_context(tenant_a.schema_name):
        report = low_stock.low_stock_report_create()
        with pytest.raises(low_stock.WebhookRefused):
            low_stock.low_stock_webhook_deliver(report=report)
        report.refresh_from_db()
    assert report.webhook_status == WebhookStatus.FAILED
    assert "non-public" in report.webhook_last_error
    assert webhook.attempts == 0


def test_real_worker_runs_the_job_on_a_test_queue(
    two_tenants_stock,
    webhook,
    tenant_a,
    tmp_path: Path,  # noqa: ANN001
):
    queue = f"ops-test-{uuid.uuid4().hex[:8]}"
    env = subprocess_env(
        CELERY_BROKER_URL=settings.REDIS_URL,
        CELERY_RESULT_BACKEND=settings.REDIS_URL,
        LOW_STOCK_WEBHOOK_ALLOW_PRIVATE="1",
        LOW_STOCK_WEBHOOK_PORTS="*",
    )
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue]
    argv += [
        "-n",
        f"{queue}@%h",
        "--pool",
        "solo",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]
    log = tmp_path / "worker.log"
    before = {s: _last_pk(s) for s in active_tenant_schemas()}
    worker = Proc(argv, env=env, log_path=log, name="celery worker")
    with running(worker):
        celery_app.send_task("inventory.tasks.low_stock_scan_all", queue=queue)
        alpha_schema = tenant_a.schema_name

        def delivered() -> bool:
            report = _latest(alpha_schema, before[alpha_schema])
            return report is not None and report.webhook_status == WebhookStatus.DELIVERED

        wait_until(delivered, 120, "the worker's report delivered to the webhook")
        wait_until(
            lambda: all(_latest(s, before[s]) for s in before), 60, "a report in every tenant"
        )
        _check_reports_against_own_data(two_tenants_stock, before)
        assert webhook.attempts == 3 and len(webhook.received) == 1
        assert "Retry in" in log.read_text(errors="replace")  # retried with a countdown


def test_reports_show_in_the_tenants_admin(tenant_a, two_tenants_stock, client):  # noqa: ANN001
    from django.contrib.auth import get_user_model

    schema = tenant_a.schema_name
    with schema_context(schema):
        report = low_stock.low_stock_report_create()
        user, _ = get_user_model().objects.get_or_create(
            username="ops-keeper", defaults={"is_staff": True, "is_superuser": True}
        )
        client.force_login(user)
    listing = client.get("/admin/inventory/lowstockreport/", HTTP_HOST=f"{schema}.localhost")
    assert listing.status_code == 200
    detail = client.get(
        f"/admin/inventory/lowstockreport/{report.pk}/change/", HTTP_HOST=f"{schema}.localhost"
    )
    assert detail.status_code == 200
    for sku in two_tenants_stock[schema]["low"]:
        assert sku in detail.content.decode()
    settings_page = client.get("/admin/inventory/reportsettings/", HTTP_HOST=f"{schema}.localhost")
    assert settings_page.status_code == 200


def test_a_tenant_with_nothing_low_gets_an_empty_report():
    from tenancy.services import tenant_provision

    with schema_context("public"):  # tenants are created from the public schema
        tenant = tenant_provision(schema_name="nothing_low", domain="nothing-low.localhost").tenant
    with schema_context(tenant.schema_name):
        report = low_stock.low_stock_report_create()
        assert report.items == [] and report.item_count == 0
