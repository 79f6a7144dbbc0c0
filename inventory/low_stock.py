"""The low-stock job: snapshot selectors.low_stock_rows() into a report, and deliver it to the tenant's
webhook. Services write in the current tenant's schema; the Celery tasks enter the tenant."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from inventory.models import LowStockReport, ReportSettings, WebhookStatus
from inventory.selectors import low_stock_rows
from ops.conf import ops_settings

REPORTS_KEPT = 100
RETRYABLE_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))


class WebhookError(Exception):
    """A delivery failed in a way a later attempt may fix (network, timeout, 5xx, 429)."""


class WebhookRefused(Exception):
    """A delivery that retrying cannot fix (a refused target, a 4xx answer)."""


def webhook_settings() -> ReportSettings | None:
    """This tenant's report settings row, if the tenant saved one."""
    return ReportSettings.objects.order_by("pk").first()


@transaction.atomic
def low_stock_report_create() -> LowStockReport:
    """Store a low-stock report for the current tenant and keep only the latest REPORTS_KEPT."""
    rows = low_stock_rows()
    config = webhook_settings()
    wants_webhook = bool(config and config.low_stock_webhook_url)
    report = LowStockReport(
        items=rows,
        item_count=len(rows),
        webhook_status=WebhookStatus.PENDING if wants_webhook else WebhookStatus.NONE,
    )
    report.full_clean()
    report.save()
    stale = LowStockReport.objects.order_by("-created_at", "-id").values_list("pk", flat=True)
    LowStockReport.objects.filter(pk__in=list(stale[REPORTS_KEPT:])).delete()
    return report


def webhook_payload(report: LowStockReport) -> dict[str, Any]:
    return {
        "event": "low_stock",
        "tenant": _schema(),
        "report_id": report.pk,
        "created_at": report.created_at.isoformat(),
        "item_count": report.item_count,
        "items": report.items,
    }


def low_stock_webhook_deliver(*, report: LowStockReport) -> None:
    """POST one report to the current tenant's webhook; record the attempt on the report.

    Raises WebhookError when a retry may help and WebhookRefused when it cannot.
    """
    config = webhook_settings()
    if not config or not config.low_stock_webhook_url:
        _record(report, status=WebhookStatus.NONE, error="")
        return
    conf = ops_settings()
    LowStockReport.objects.filter(pk=report.pk).update(webhook_attempts=F("webhook_attempts") + 1)
    body = json.dumps(webhook_payload(report), separators=(",", ":")).encode()
    try:
        target = webhook_target_pin(
            config.low_stock_webhook_url,
            allow_private=conf.WEBHOOK_ALLOW_PRIVATE,
            ports=conf.WEBHOOK_PORTS,
        )
        headers = _headers(report, body, config.webhook_secret)
        response = _post_pinned(target, body, headers, conf.WEBHOOK_TIMEOUT)
    except httpx.HTTPError as exc:
        _record(report, status=WebhookStatus.PENDING, error=f"{type(exc).__name__}: {exc}")
        raise WebhookError(str(exc)) from exc
    except WebhookRefused as exc:
        _record(report, status=WebhookStatus.FAILED, error=str(exc))
        raise
    if response.is_success:
        _record(report, status=WebhookStatus.DELIVERED, error="", delivered=True)
        return
    error = f"HTTP {response.status_code} from the webhook"
    if response.status_code in RETRYABLE_STATUSES:
        _record(report, status=WebhookStatus.PENDING, error=error)
        raise WebhookError(error)
    _record(report, status=WebhookStatus.FAILED, error=error)
    raise WebhookRefused(error)


def low_stock_webhook_give_up(*, report: LowStockReport, error: str) -> None:
    """Mark a delivery failed once its retries are spent."""
    _record(report, status=WebhookStatus.FAILED, error=error)


@dataclass(frozen=True)
class PinnedTarget:
    """A webhook URL resolved once and checked: connect to `url` (an address), say `host`."""

    url: str  # the webhook URL with the checked address in place of the host name
    host: str  # the Host header: the name (and port) the tenant wrote
    server_name: str  # the TLS server name (SNI) the certificate is verified against


Resolver = Callable[..., list[Any]]


def webhook_target_pin(
    url: str, *, allow_private: bool, ports: tuple[str, ...], resolver: Resolver | None = None
) -> PinnedTarget:
    """Resolve the webhook's host once and pin the connection to the first address.

    Refuses non-HTTP URLs, ports outside `ports` ("*": any), and (unless allowed) a host with
    any private, loopback, link-local (cloud metadata) or otherwise non-public address. The
    request then goes to exactly the address checked here, so a DNS answer that changes between
    the check and the connection (DNS rebinding) cannot redirect it.
    """
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused("the webhook URL has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("the webhook URL must be http(s)://host/...")
    address = _resolve_checked(parts.hostname, port, allow_private, resolver or socket.getaddrinfo)
    if "*" not in ports and str(port) not in ports:
        raise WebhookRefused(f"port {port} is not allowed (LOW_STOCK_WEBHOOK_PORTS)")
    netloc = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return PinnedTarget(url=pinned, host=host, server_name=parts.hostname)


def _resolve_checked(
    hostname: str, port: int, allow_private: bool, resolver: Resolver
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        infos = resolver(hostname, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise WebhookError(f"cannot resolve {hostname}: {exc}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise WebhookError(f"cannot resolve {hostname}: no address")
    if not allow_private and not all(address.is_global for address in addresses):
        raise WebhookRefused(
            f"{hostname} resolves to a non-public address; refused "
            "(LOW_STOCK_WEBHOOK_ALLOW_PRIVATE allows it)"
        )
    return addresses[0]


def _post_pinned(target: PinnedTarget, body: bytes, headers: dict[str, str], timeout: float) -> Any:
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        request = client.build_request(
            "POST",
            target.url,
            content=body,
            headers={**headers, "Host": target.host},
            extensions={"sni_hostname": target.server_name},
        )
        return client.send(request)


def _headers(report: LowStockReport, body: bytes, secret: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "tenant-inventory-webhook/1",
        "X-Inventory-Event": "low_stock",
        # Stable across retries, so a receiver can drop duplicates.
        "X-Inventory-Delivery": f"{_schema()}:{report.pk}",
    }
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Inventory-Signature"] = f"sha256={digest}"
    return headers


def _schema() -> str:
    """The schema the current connection is in (django-tenants sets it)."""
    return str(getattr(connection, "schema_name", ""))


def _record(report: LowStockReport, *, status: str, error: str, delivered: bool = False) -> None:
    LowStockReport.objects.filter(pk=report.pk).update(
        webhook_status=status,
        webhook_last_error=error[:300],
        webhook_delivered_at=timezone.now() if delivered else None,
    )
