"""Tenant field rules: schema names, tenant domains (never a host the platform answers on),
time zones."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from tenancy.validators import validate_schema_name, validate_tenant_domain, validate_time_zone


@pytest.mark.parametrize("name", ["alpha", "a", "shop_2", "a" * 63])
def test_valid_schema_names(name: str) -> None:
    assert validate_schema_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "Alpha", "2shop", "_x", "a-b", "a" * 64, "public", "information_schema", "pg_temp", None],
)
def test_invalid_schema_names(name: str) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_schema_name(name)
    assert raised.value.code == "invalid_schema"


@pytest.mark.parametrize(
    ("value", "normalised"),
    [("Shop.Example.com.", "shop.example.com"), (" alpha.localhost ", "alpha.localhost")],
)
def test_valid_domains_are_normalised(value: str, normalised: str) -> None:
    assert validate_tenant_domain(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "",
        "localhost",
        "10.0.0.1",
        "127.1",
        "under_score.example",
        "-lead.example",
        "a..b",
        "x" * 64 + ".example",
        ("a" * 60 + ".") * 5 + "com",  # over 253 characters
        "inventory.tunnel.example",  # an MCP_ALLOWED_HOSTS name
        "edge.internal.example",  # under an MCP_ALLOWED_HOSTS wildcard
    ],
)
def test_invalid_domains(value: str) -> None:
    with (
        override_settings(MCP_ALLOWED_HOSTS=["*", "inventory.tunnel.example", ".internal.example"]),
        pytest.raises(ValidationError) as raised,
    ):
        validate_tenant_domain(value)
    assert raised.value.code == "invalid_domain"


def test_time_zones() -> None:
    assert validate_time_zone("Europe/Berlin") == "Europe/Berlin"
    for bad in ("Mars/Olympus", "", "europe/berlin"):
        with pytest.raises(ValidationError):
            validate_time_zone(bad)
