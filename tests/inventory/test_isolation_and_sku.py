"""Tenant isolation (admin, selector, commands) and the one SKU rule on every core path."""

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from inventory import selectors, services
from inventory.validators import SKU_RULE, validate_sku
from tests.support import admin_session, manage

INVALID_SKUS = [
    "",
    "X" * 65,
    "has space",
    "quote'd",
    'dq"x',
    "naïve",
    "nul\x00byte",
    "-leading-dash",
    ".dot",
]


def _admin_session(server, host: str, username: str, password: str) -> httpx.Client:
    client, answer = admin_session(server.url, host, username, password)
    assert answer.status_code == 302, answer.text[:500]
    return client


def _staff(schema: str, username: str) -> tuple[str, str]:
    with schema_context(schema):
        model = get_user_model()
        if not model.objects.filter(username=username).exists():
            model.objects.create_superuser(username, f"{username}@example.com", "pw-for-tests-1")
    return username, "pw-for-tests-1"


def test_an_item_in_tenant_a_is_invisible_from_tenant_b(server, tenant_a, tenant_b, unique_sku):
    with schema_context("alpha"):
        item = services.item_create(sku=unique_sku, name="Alpha-only secret widget")
    # the selector
    with schema_context("beta"):
        assert selectors.stock_answer(sku=unique_sku)["found"] is False
    # the commands
    result = manage("check_stock", "--tenant", "beta", unique_sku)
    assert result.returncode == 0 and '"found": false' in result.stdout
    # the admin: B's staff searches for A's SKU and opens A's item id
    client = _admin_session(server, "beta.localhost", *_staff("beta", "bob"))
    listing = client.get(f"/admin/inventory/item/?q={unique_sku}")
    assert listing.status_code == 200 and "0 items" in listing.text
    assert "Alpha-only secret widget" not in listing.text
    detail = client.get(f"/admin/inventory/item/{item.pk}/change/")
    assert "Alpha-only secret widget" not in detail.text
    # A's staff login is not a login on B's host: users live in each tenant's schema
    a_user = _staff("alpha", "alice2")
    with pytest.raises(AssertionError):
        _admin_session(server, "beta.localhost", *a_user)


def test_an_unknown_host_gets_404_not_the_public_schema(server):
    resp = httpx.get(f"{server.url}/admin/inventory/item/", headers={"Host": "nosuch.localhost"})
    assert resp.status_code == 404


@pytest.mark.parametrize("sku", INVALID_SKUS)
def test_invalid_skus_are_refused_with_the_same_message_on_every_core_path(in_tenant_a, sku):
    message = f"invalid SKU: {SKU_RULE}"
    with pytest.raises(ValidationError) as validator_error:
        validate_sku(sku)
    with pytest.raises(ValidationError) as selector_error:
        selectors.stock_answer(sku=sku)
    with pytest.raises(ValidationError) as service_error:
        services.item_create(sku=sku, name="x")
    for error in (validator_error, selector_error, service_error):
        assert error.value.messages == [message]
    if "\x00" not in sku:  # a NUL byte cannot be passed on a command line at all
        command = manage("check_stock", "--tenant", "alpha", "--", sku)
        assert command.returncode == 2 and command.stderr.strip() == f"CommandError: {message}"


def test_valid_sku_edge_cases_are_accepted():
    for sku in ["A", "9", "a.b-c_d", "X" * 64]:
        assert validate_sku(sku) == sku
