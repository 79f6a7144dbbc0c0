"""Operators' commands, run as real `manage.py` processes against the test database."""

import json

import pytest
from django_tenants.utils import get_public_schema_name, schema_context

from inventory import selectors, services
from inventory.models import Item, Location, Movement
from inventory.validators import SKU_RULE
from tenancy.models import Domain, Tenant
from tests.support import manage


def test_provision_tenant_twice_is_harmless():
    first = manage(
        "provision_tenant", "gamma", "--domain", "gamma.localhost", "--name", "Gamma Ltd"
    )
    assert first.returncode == 0, first.stderr
    assert "created tenant gamma" in first.stdout
    second = manage(
        "provision_tenant", "gamma", "--domain", "gamma.localhost", "--name", "Gamma Ltd"
    )
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert Tenant.objects.filter(schema_name="gamma").count() == 1
    assert list(
        Domain.objects.filter(tenant__schema_name="gamma").values_list("domain", flat=True)
    ) == ["gamma.localhost"]
    with schema_context("gamma"):
        assert Item.objects.count() == 0  # the schema and its tables exist


@pytest.mark.parametrize(
    "schema", ["public", "pg_catalog", "Upper", "x" * 64, "1abc", "bad-name", "information_schema"]
)
def test_invalid_or_reserved_schema_names_exit_2_with_one_line(schema):
    # The public schema may have its own row (it serves the public admin): compare counts.
    before = Tenant.objects.filter(schema_name=schema).count()
    result = manage("provision_tenant", schema, "--domain", f"x{len(schema)}.localhost")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "invalid schema name" in result.stderr
    assert Tenant.objects.filter(schema_name=schema).count() == before
    assert before == 0 or schema == "public"


def test_a_domain_owned_by_another_tenant_is_refused(tenant_a):
    result = manage("provision_tenant", "delta", "--domain", "alpha.localhost")
    assert result.returncode == 2
    assert "already belongs to tenant 'alpha'" in result.stderr


def test_check_stock_prints_the_selector_json(tenant_a, unique_sku):
    with schema_context("alpha"):
        item = services.item_create(sku=unique_sku, name="x")
        loc = services.location_create(code=unique_sku[-8:], name="x")
        services.movement_record(kind="receipt", item=item, quantity=9, to_location=loc, actor="t")
        expected = selectors.stock_answer(sku=unique_sku)
    result = manage("check_stock", "--tenant", "alpha", unique_sku)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected == {**expected, "quantity": 9, "found": True}


def test_check_stock_unknown_tenant_and_invalid_sku_exit_2(tenant_a):
    unknown = manage("check_stock", "--tenant", "nosuch", "ABC")
    assert unknown.returncode == 2 and "unknown tenant 'nosuch'" in unknown.stderr
    invalid = manage("check_stock", "--tenant", "alpha", "bad sku")
    assert invalid.returncode == 2 and SKU_RULE in invalid.stderr


def test_seed_demo_twice_changes_nothing():
    # seed_demo is development-only (it refuses with DEBUG off: tests/security/test_roles_commands.py)
    first = manage("seed_demo", DJANGO_DEBUG="1")
    assert first.returncode == 0, first.stderr
    assert "login: keeper /" in first.stdout
    with schema_context("demo"):
        counts = (Item.objects.count(), Location.objects.count(), Movement.objects.count())
        assert 18 <= counts[0] <= 22 and counts[1] == 2
    second = manage("seed_demo", PORT="8123", DJANGO_DEBUG="1")
    assert second.returncode == 0, second.stderr
    with schema_context("demo"):
        assert (Item.objects.count(), Location.objects.count(), Movement.objects.count()) == counts
    # The URLs carry the real port, and localhost reaches the public admin (development).
    assert "http://demo.localhost:8123/admin/" in second.stdout
    assert "http://localhost:8123/admin/" in second.stdout and "createsuperuser" in second.stdout
    public = Domain.objects.get(domain="localhost").tenant
    assert public.schema_name == get_public_schema_name()


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_import_creates_items_and_counts_and_is_idempotent(tenant_a, tmp_path, unique_sku):
    csv = _write(
        tmp_path,
        "take.csv",
        f"sku,name,location,quantity\n{unique_sku},Imported widget,IMP-A,12\n{unique_sku},Imported widget,IMP-B,3\n",
    )
    first = manage("import_stock", "--tenant", "alpha", str(csv))
    assert first.returncode == 0, first.stderr
    assert "2 count movements" in first.stdout
    with schema_context("alpha"):
        assert selectors.stock_answer(sku=unique_sku)["quantity"] == 15
        movements = Movement.objects.filter(item__sku=unique_sku).count()
    again = manage("import_stock", "--tenant", "alpha", str(csv))
    assert again.returncode == 0, again.stderr
    assert "0 count movements" in again.stdout
    with schema_context("alpha"):
        assert Movement.objects.filter(item__sku=unique_sku).count() == movements


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("bad sku,Name,IMP-A,1", SKU_RULE),
        ("GOOD-{u},Name,IMP-A,-4", "quantity must be a whole number"),
        ("GOOD-{u},Name,IMP-A,many", "quantity must be a whole number"),
        ("GOOD-{u},Name,,1", "location must be"),
        ("GOOD-{u},,IMP-A,1", "needs a name"),
    ],
)
def test_a_bad_row_fails_the_whole_file_with_its_line_number(
    tenant_a, tmp_path, unique_sku, row, reason
):
    good = f"{unique_sku},Fine,IMP-A,5"
    csv = _write(
        tmp_path,
        "bad.csv",
        f"sku,name,location,quantity\n{good}\n{good.replace('IMP-A', 'IMP-C')}\n{row.format(u=unique_sku)}\n",
    )
    result = manage("import_stock", "--tenant", "alpha", str(csv))
    assert result.returncode == 2
    assert "line 4:" in result.stderr and reason in result.stderr
    assert "nothing was imported" in result.stderr
    with schema_context("alpha"):
        assert not Item.objects.filter(sku=unique_sku).exists()
        assert not Movement.objects.filter(item__sku=unique_sku).exists()


def test_import_refuses_a_wrong_header(tenant_a, tmp_path):
    csv = _write(tmp_path, "hdr.csv", "sku,qty\nA,1\n")
    result = manage("import_stock", "--tenant", "alpha", str(csv))
    assert (
        result.returncode == 2
        and "line 1: the header must be exactly sku,name,location,quantity" in result.stderr
    )
