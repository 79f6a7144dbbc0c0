"""Forwarded headers count only from TRUSTED_PROXIES, and /metrics needs its token in production.

Before: uvicorn trusted X-Forwarded-For from loopback, and every tunnelled request comes from
loopback, so `X-Forwarded-For: <an allowed address>` opened /metrics to anyone.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.security.conftest import production_setting
from tests.support import ROOT, live_server

ALLOWED = "203.0.113.0/24"
TOKEN = "metrics-token-for-tests-0123456789"


def _metrics(url: str, **headers: str) -> int:
    return httpx.get(url + "/metrics", headers=headers, timeout=10).status_code


def test_x_forwarded_for_from_loopback_does_not_open_metrics():
    with live_server(METRICS_ALLOW_FROM=ALLOWED) as srv:
        assert _metrics(srv.url) == 403
        assert _metrics(srv.url, **{"X-Forwarded-For": "203.0.113.7"}) == 403
        assert _metrics(srv.url, **{"X-Forwarded-For": "203.0.113.7, 127.0.0.1"}) == 403
        assert (
            _metrics(srv.url, **{"X-Real-IP": "203.0.113.7", "Forwarded": "for=203.0.113.7"}) == 403
        )


def test_a_configured_proxy_is_believed():
    with live_server(METRICS_ALLOW_FROM=ALLOWED, TRUSTED_PROXIES="127.0.0.1") as srv:
        assert _metrics(srv.url, **{"X-Forwarded-For": "203.0.113.7"}) == 200
        assert _metrics(srv.url, **{"X-Forwarded-For": "198.51.100.7"}) == 403


def test_with_the_token_required_an_allowed_address_is_not_enough():
    env = {
        "METRICS_ALLOW_FROM": "127.0.0.0/8",
        "METRICS_TOKEN": TOKEN,
        "METRICS_REQUIRE_TOKEN": "1",
    }
    with live_server(**env) as srv:
        assert _metrics(srv.url) == 403
        assert _metrics(srv.url, Authorization="Bearer wrong") == 403
        assert _metrics(srv.url, Authorization=f"Bearer {TOKEN}") == 200


def test_production_requires_the_metrics_token(production_env):  # noqa: ANN001
    assert production_setting("OPERATIONS['METRICS_REQUIRE_TOKEN']", production_env) == "True"


SHIPPED = [
    "docker-compose.yml",
    "Procfile",
    "Dockerfile",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs" / "systemd").iterdir()),
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "deploy").glob("*")),
]


@pytest.mark.parametrize("name", SHIPPED)
def test_no_shipped_file_trusts_every_proxy(name):
    text = (Path(ROOT) / name).read_text()
    for raw in text.splitlines():
        line = raw.split(" #")[0] if not raw.lstrip().startswith("#") else ""
        if (
            "FORWARDED_ALLOW_IPS" in line
            or "TRUSTED_PROXIES" in line
            or "forwarded-allow-ips" in line
        ):
            assert "*" not in line, f"{name}: {line.strip()}"
