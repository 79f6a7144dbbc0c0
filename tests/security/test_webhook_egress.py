"""The low-stock webhook connects to exactly the address it checked: a DNS answer that changes
between the check and the connection (DNS rebinding) cannot send it to a private address.

Before the fix the check resolved the name once and httpx resolved it again to connect, so a
resolver answering a public address first and 127.0.0.1 next delivered to loopback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from inventory import low_stock
from inventory.models import ReportSettings, WebhookStatus
from tests.support import WebhookReceiver

PUBLIC = "93.184.215.14"  # a global address; the test never really connects to it
_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def any_port(settings):  # noqa: ANN001, ANN201
    settings.OPERATIONS = {**settings.OPERATIONS, "WEBHOOK_PORTS": ["*"], "WEBHOOK_TIMEOUT": 2.0}


class Rebinder:
    """A resolver for `name`: answers `first`, then 127.0.0.1 on every later lookup."""

    def __init__(self, name: str, first: list[str]) -> None:
        self.name, self.first, self.calls = name, first, 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host != self.name:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        self.calls += 1
        answer = self.first if self.calls == 1 else ["127.0.0.1"]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port))) for a in answer]


def _deliver(tenant: Any, url: str) -> tuple[Any, Exception | None]:
    with schema_context(tenant.schema_name):
        ReportSettings.objects.all().delete()
        ReportSettings.objects.create(low_stock_webhook_url=url, webhook_secret="")
        report = low_stock.low_stock_report_create()
        error: Exception | None = None
        try:
            low_stock.low_stock_webhook_deliver(report=report)
        except (low_stock.WebhookError, low_stock.WebhookRefused) as exc:
            error = exc
        finally:
            ReportSettings.objects.all().delete()
        report.refresh_from_db()
    return report, error


def test_dns_rebinding_cannot_reach_loopback(tenant_a, receiver, any_port, monkeypatch) -> None:  # noqa: ANN001
    port = int(receiver.url.split(":")[2].split("/")[0])
    monkeypatch.setattr(socket, "getaddrinfo", Rebinder("hooks.rebind.test", [PUBLIC]))
    connected: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address)
        if address[0] == PUBLIC:  # no real network in tests: the checked address refuses
            raise ConnectionRefusedError(f"{address} refused (test)")
        return _real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    report, error = _deliver(tenant_a, f"http://hooks.rebind.test:{port}/hooks/low-stock")
    assert receiver.attempts == 0, "the webhook reached 127.0.0.1 through a rebound name"
    assert connected == [(PUBLIC, port)]  # exactly the checked address, resolved once
    assert isinstance(error, low_stock.WebhookError)
    assert report.webhook_status == WebhookStatus.PENDING


@pytest.mark.parametrize(
    "answer",
    [["127.0.0.1"], [PUBLIC, "10.0.0.5"], ["169.254.169.254"], ["100.64.0.1"], ["0.0.0.0"]],  # noqa: S104
)
def test_any_non_public_address_is_refused(tenant_a, any_port, monkeypatch, answer) -> None:  # noqa: ANN001
    monkeypatch.setattr(socket, "getaddrinfo", Rebinder("hooks.private.test", answer))
    report, error = _deliver(tenant_a, "http://hooks.private.test/hook")
    assert isinstance(error, low_stock.WebhookRefused)
    assert (
        report.webhook_status == WebhookStatus.FAILED and "non-public" in report.webhook_last_error
    )


def test_ports_other_than_80_and_443_need_configuring(tenant_a, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(socket, "getaddrinfo", Rebinder("hooks.port.test", [PUBLIC]))
    report, error = _deliver(tenant_a, "http://hooks.port.test:8080/hook")
    assert isinstance(error, low_stock.WebhookRefused) and "port 8080" in str(error)


def test_pinned_request_keeps_the_host_name(
    tenant_a, receiver, any_port, settings, monkeypatch
) -> None:  # noqa: ANN001
    settings.OPERATIONS = {**settings.OPERATIONS, "WEBHOOK_ALLOW_PRIVATE": True}
    port = int(receiver.url.split(":")[2].split("/")[0])
    resolver = Rebinder("hooks.named.test", ["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    report, error = _deliver(tenant_a, f"http://hooks.named.test:{port}/hooks/low-stock")
    assert error is None and report.webhook_status == WebhookStatus.DELIVERED
    assert receiver.received[0]["headers"]["Host"] == f"hooks.named.test:{port}"
    assert resolver.calls == 1
