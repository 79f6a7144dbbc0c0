"""Tenant domains are host names only: no IPs, no `localhost`, nothing in MCP_ALLOWED_HOSTS
(a tenant that owned one would capture the platform's own hosts, e.g. the tunnel upstream)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tenancy.models import Tenant
from tenancy.validators import validate_tenant_domain
from tests.support import manage

REFUSED = [
    "127.0.0.1",
    "10.0.0.1",
    "127.1",
    "::1",
    "[::1]",
    "localhost",
    "LOCALHOST.",
    "",
    "a b.example.com",
    "x..example.com",
    "-bad.example.com",
    "bad-.example.com",
    "under_score.example.com",
    "host.example.com:8000",
    "é.example.com",
    ("a" * 64) + ".example.com",
    ".".join(["abcdefghij"] * 24),  # 263 characters
]


@pytest.mark.parametrize("domain", REFUSED)
def test_the_rule_refuses_addresses_and_malformed_names(domain):
    with pytest.raises(ValidationError):
        validate_tenant_domain(domain)


def test_the_rule_refuses_mcp_allowed_hosts(settings):  # noqa: ANN001
    settings.MCP_ALLOWED_HOSTS = ["tunnel.example.com", ".mcp.example.net", "*"]
    for domain in (
        "tunnel.example.com",
        "TUNNEL.example.com",
        "mcp.example.net",
        "a.mcp.example.net",
    ):
        with pytest.raises(ValidationError):
            validate_tenant_domain(domain)
    assert validate_tenant_domain("shop.example.com") == "shop.example.com"  # "*" is not a name


def test_the_rule_normalises_valid_names():
    assert validate_tenant_domain(" Shop.Example.COM. ") == "shop.example.com"
    assert validate_tenant_domain("demo.localhost") == "demo.localhost"
    assert validate_tenant_domain("x1-2.example.co") == "x1-2.example.co"


@pytest.mark.parametrize(
    "domain", ["127.0.0.1", "localhost", "[::1]", "10.1.2.3", "tunnel.example.com"]
)
def test_provision_tenant_refuses_them_with_one_line(domain):
    result = manage(
        "provision_tenant", "domtest", "--domain", domain, MCP_ALLOWED_HOSTS="tunnel.example.com"
    )
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip().count("\n") == 0 and "invalid domain" in result.stderr
    assert not Tenant.objects.filter(schema_name="domtest").exists()
