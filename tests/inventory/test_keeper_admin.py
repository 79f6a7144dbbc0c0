"""The keeper admin's rules without a browser: restocks received in part or cancelled only through
services, the history selectors, exports, roles, and the admin's HTTP doors (Django's test
client against real PostgreSQL)."""

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from inventory import exports, selectors, services
from inventory.models import Location, Movement
from inventory.roles import ROLE_PERMISSIONS, STOCK_KEEPER, VIEWER, roles_sync
from tests.conftest import provision


@pytest.fixture
def stock(in_tenant_a, unique_sku):
    item = services.item_create(sku=unique_sku, name="Widget")
    here = services.location_create(code=f"K{unique_sku[-6:]}", name="Here")
    return item, here


def test_partial_receipts_leave_the_rest_open_and_complete_the_restock(stock):
    item, here = stock
    restock = services.restock_create(
        item=item, quantity=10, expected_date=timezone.localdate() + timedelta(days=2)
    )
    first = services.restock_receive(restock=restock, actor="t", location=here, quantity=4)
    restock.refresh_from_db()
    assert (restock.status, restock.received_quantity, restock.remaining) == ("open", 4, 6)
    snapshot = selectors.stock_answer(sku=item.sku)
    assert snapshot["quantity"] == 4 and snapshot["restock_date"] == str(restock.expected_date)
    with pytest.raises(services.OutOfRange, match="6 left to receive, not 7"):
        services.restock_receive(restock=restock, actor="t", location=here, quantity=7)
    rest = services.restock_receive(restock=restock, actor="t", location=here)
    restock.refresh_from_db()
    assert (restock.status, restock.received_quantity, restock.receipt_id) == (
        "received",
        10,
        rest.movement.pk,
    )
    assert first.movement.quantity == 4 and rest.movement.quantity == 6
    assert services.restock_receive(restock=restock, actor="t").replayed  # REST's replay
    assert selectors.stock_answer(sku=item.sku) == {
        "sku": item.sku,
        "found": True,
        "quantity": 10,
        "restock_date": None,
    }


def test_a_retried_admin_receipt_is_recorded_once(stock):
    item, here = stock
    restock = services.restock_create(item=item, quantity=5, expected_date=timezone.localdate())
    for _ in range(2):
        services.restock_receive(
            restock=restock, actor="t", location=here, quantity=2, idempotency_key="admin:k1"
        )
    restock.refresh_from_db()
    assert restock.received_quantity == 2
    assert Movement.objects.filter(item=item).count() == 1
    other = services.restock_create(item=item, quantity=5, expected_date=timezone.localdate())
    with pytest.raises(services.IdempotencyConflict):
        services.restock_receive(
            restock=other, actor="t", location=here, idempotency_key="admin:k1"
        )


def test_cancel_keeps_receipts_and_a_cancelled_or_received_restock_is_final(stock):
    item, here = stock
    restock = services.restock_create(item=item, quantity=5, expected_date=timezone.localdate())
    services.restock_receive(restock=restock, actor="t", location=here, quantity=1)
    assert services.restock_cancel(restock=restock).status == "cancelled"
    assert services.restock_cancel(restock=restock).status == "cancelled"  # idempotent
    with pytest.raises(services.InventoryError, match="cancelled and cannot be received"):
        services.restock_receive(restock=restock, actor="t", location=here)
    with pytest.raises(services.InventoryError, match="cannot be changed"):
        services.restock_update(
            restock=restock, quantity=9, expected_date=restock.expected_date, location=None
        )
    assert selectors.stock_answer(sku=item.sku)["quantity"] == 1
    done = services.restock_create(item=item, quantity=1, expected_date=timezone.localdate())
    services.restock_receive(restock=done, actor="t", location=here)
    with pytest.raises(services.InventoryError, match="received and cannot be cancelled"):
        services.restock_cancel(restock=done)


def test_restock_quantity_cannot_drop_below_what_was_received(stock):
    item, here = stock
    restock = services.restock_create(item=item, quantity=5, expected_date=timezone.localdate())
    services.restock_receive(restock=restock, actor="t", location=here, quantity=3)
    with pytest.raises(services.InventoryError, match="3 were already received"):
        services.restock_update(
            restock=restock, quantity=2, expected_date=restock.expected_date, location=here
        )
    later = restock.expected_date + timedelta(days=1)
    changed = services.restock_update(
        restock=restock, quantity=3, expected_date=later, location=None
    )
    assert (changed.quantity, changed.expected_date, changed.location) == (3, later, None)


def test_history_balance_and_series_come_from_the_ledger(stock):
    item, here = stock
    services.movement_record(kind="receipt", item=item, quantity=9, to_location=here, actor="t")
    services.stock_adjust(item=item, location=here, delta=-2, reason="broken", actor="t")
    recent = selectors.item_recent_movements(item=item)
    assert [(m.delta, m.balance) for m in recent] == [(-2, 7), (9, 9)]  # type: ignore[attr-defined]
    series = selectors.item_stock_series(item=item, days=90)
    assert len(series) == 90 and series[-1] == (timezone.localdate(), 7) and series[0][1] == 0


def test_exports_escape_formulas_and_keep_numbers():
    table = exports.Table("t", ("a", "b"), [("=HYPERLINK(1)", 5), ("-1+2", -3)])
    assert exports.to_csv(table).decode().splitlines() == ["a,b", "'=HYPERLINK(1),5", "'-1+2,-3"]
    from openpyxl import load_workbook

    rows = list(
        load_workbook(io.BytesIO(exports.to_xlsx(table))).active.iter_rows(values_only=True)
    )
    assert rows == [("a", "b"), ("'=HYPERLINK(1)", 5), ("'-1+2", -3)]


def test_roles_sync_is_idempotent_and_keeps_exact_permission_sets(in_tenant_a):
    roles_sync()
    keeper = Group.objects.get(name=STOCK_KEEPER)
    keeper.permissions.clear()
    roles_sync()
    roles_sync()
    for name, codenames in ROLE_PERMISSIONS.items():
        have = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert have == set(codenames)
    viewer = set(Group.objects.get(name=VIEWER).permissions.values_list("codename", flat=True))
    assert all(c.startswith("view_") for c in viewer)
    assert "view_reportsettings" not in viewer | set(ROLE_PERMISSIONS[STOCK_KEEPER])
    assert not any(c.startswith("delete_") for c in ROLE_PERMISSIONS[STOCK_KEEPER])


@pytest.fixture(scope="module")
def solo():
    """A tenant with exactly one location and a Stock keeper."""
    tenant = provision("solo_keeper", "solo-keeper.localhost")
    with schema_context(tenant.schema_name):
        roles_sync()
        user = get_user_model().objects.create_user("sam", password="pw-solo-123", is_staff=True)
        user.groups.add(Group.objects.get(name=STOCK_KEEPER))
        only = services.location_create(code="ONLY", name="The only shelf")
        item = services.item_create(sku="SOLO-1", name="Solo item")
        restock = services.restock_create(item=item, quantity=3, expected_date=timezone.localdate())
    return tenant, only, item, restock


@pytest.fixture
def keeper_client(solo) -> Iterator[Client]:
    """The tenant's Stock keeper, logged in. The test client runs the middleware in this
    thread, which leaves the connection on the tenant's schema: put it back afterwards."""
    client = Client(HTTP_HOST="solo-keeper.localhost")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "sam", "password": "pw-solo-123"}
    )
    assert response.status_code == 302
    try:
        yield client
    finally:
        connection.set_schema_to_public()


def test_a_sole_location_is_preselected_and_the_restock_form_has_no_status(solo, keeper_client):
    _, only, item, restock = solo
    client = keeper_client
    for move in ("receive", "issue", "count", "adjust"):
        page = client.get(f"/admin/inventory/item/{item.pk}/{move}/").content.decode()
        assert f'<option value="{only.pk}" selected>' in page, move
    form = client.get(f"/admin/inventory/restock/{restock.pk}/change/").content.decode()
    assert 'name="status"' not in form and "restock-receive" in form
    receive = client.get(f"/admin/inventory/restock/{restock.pk}/receive/").content.decode()
    assert f'<option value="{only.pk}" selected>' in receive


def test_custom_admin_views_refuse_bad_input_and_other_hosts(solo, keeper_client, tenant_a):
    _, only, item, _ = solo
    client = keeper_client
    assert client.get("/admin/inventory/item/export/pdf/").status_code == 404
    assert client.get("/admin/inventory/item/999999/issue/").status_code == 404
    refused = client.post(
        f"/admin/inventory/item/{item.pk}/issue/",
        {"from_location": only.pk, "quantity": "0", "reason": "r", "token": "not-a-uuid"},
    )
    assert refused.status_code == 200 and b"errorlist" in refused.content
    with schema_context("solo_keeper"):
        assert not Movement.objects.filter(item=item).exists()
        assert Location.objects.count() == 1
    # The same session cookie on another tenant's host is no login there.
    other = Client(HTTP_HOST="alpha.localhost")
    other.cookies = client.cookies
    assert other.get(f"/admin/inventory/item/{item.pk}/issue/").status_code == 302


def test_keeper_adds_items_and_restocks_through_services_but_no_users(solo, keeper_client):
    _, only, _, _ = solo
    client = keeper_client
    added = client.post(
        "/admin/inventory/item/add/",
        {
            "sku": "SOLO-ADDED",
            "name": "Added",
            "unit": "each",
            "reorder_point": "2",
            "active": "on",
        },
    )
    assert added.status_code == 302, added.content[:300]
    bad = client.post(
        "/admin/inventory/item/add/",
        {"sku": "-bad sku", "name": "Bad", "unit": "each", "reorder_point": "0"},
    )
    assert bad.status_code == 200 and b"errornote" in bad.content
    with schema_context("solo_keeper"):
        from inventory.models import Item, Restock

        item = Item.objects.get(sku="SOLO-ADDED")
        assert not Item.objects.filter(name="Bad").exists()
    restock = client.post(
        "/admin/inventory/restock/add/",
        {
            "item": item.pk,
            "location": only.pk,
            "quantity": "4",
            "expected_date": str(timezone.localdate()),
            "status": "received",  # not a field: ignored
        },
    )
    assert restock.status_code == 302, restock.content[:300]
    with schema_context("solo_keeper"):
        created = Restock.objects.get(item=item)
        assert (created.status, created.received_quantity, created.receipt_id) == ("open", 0, None)
    location = client.post("/admin/inventory/location/add/", {"code": "SECOND", "name": "Two"})
    assert location.status_code == 302, location.content[:300]
    with schema_context("solo_keeper"):
        second = Location.objects.get(code="SECOND")
    renamed = client.post(f"/admin/inventory/location/{second.pk}/change/", {"name": "Shelf 2"})
    assert renamed.status_code == 302
    with schema_context("solo_keeper"):
        assert Location.objects.get(pk=second.pk).name == "Shelf 2"
        second.delete()  # the other tests of this module expect one location
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403
    assert client.get("/admin/inventory/reportsettings/").status_code == 403


def test_restock_list_actions_receive_in_full_or_cancel_with_one_message_each(solo, keeper_client):
    _, only, item, _ = solo
    with schema_context("solo_keeper"):
        day = timezone.localdate()
        placed = services.restock_create(item=item, quantity=2, expected_date=day, location=only)
        nowhere = services.restock_create(item=item, quantity=2, expected_date=day)
    answer = keeper_client.post(
        "/admin/inventory/restock/",
        {"action": "receive_selected", "_selected_action": [placed.pk, nowhere.pk], "index": 0},
        follow=True,
    )
    text = answer.content.decode()
    assert f"Restock #{placed.pk} received." in text
    assert text.count(f"Restock #{nowhere.pk}: this restock has no location") == 1
    keeper_client.post(
        "/admin/inventory/restock/",
        {"action": "cancel_selected", "_selected_action": [placed.pk, nowhere.pk], "index": 0},
    )
    with schema_context("solo_keeper"):
        from inventory.models import Restock

        statuses = dict(
            Restock.objects.filter(pk__in=[placed.pk, nowhere.pk]).values_list("pk", "status")
        )
        assert statuses == {placed.pk: "received", nowhere.pk: "cancelled"}
        assert selectors.stock_by_location(sku=item.sku) == [{"location": "ONLY", "quantity": 2}]


def test_cancel_page_asks_then_cancels_and_a_received_restock_offers_neither(solo, keeper_client):
    _, only, item, _ = solo
    with schema_context("solo_keeper"):
        day = timezone.localdate()
        restock = services.restock_create(item=item, quantity=1, expected_date=day, location=only)
    url = f"/admin/inventory/restock/{restock.pk}/cancel/"
    assert b"Cancel what is still open" in keeper_client.get(url).content
    done = keeper_client.post(url, follow=True).content.decode()
    assert f"Restock #{restock.pk} cancelled." in done and "restock-receive" not in done
    again = keeper_client.post(url, follow=True).content.decode()  # a resent POST: no change
    assert f"Restock #{restock.pk} cancelled." in again
    receive = keeper_client.post(
        f"/admin/inventory/restock/{restock.pk}/receive/",
        {"location": only.pk, "quantity": 1, "token": "6f1c7a54-3b0e-4a53-9a43-1d8c3a3c0b11"},
    )
    assert receive.content.decode().count("is cancelled and cannot be received") == 1


def test_rest_receive_is_unchanged_and_takes_what_a_partial_receipt_left(server, tenant_a, stock):
    from tenancy.services import token_issue
    from tests.api.conftest import ALPHA, make_client

    item, here = stock
    day = timezone.localdate()
    part = services.restock_create(item=item, quantity=10, expected_date=day, location=here)
    services.restock_receive(restock=part, actor="user:kim", quantity=4)
    dropped = services.restock_create(item=item, quantity=3, expected_date=day, location=here)
    services.restock_cancel(restock=dropped)
    raw = token_issue(
        tenant=tenant_a, name=f"rest-{item.sku}", scopes=["stock:read", "stock:write"]
    ).raw
    with make_client(server, ALPHA, raw) as api:
        rest = api.post(f"/restocks/{part.pk}/receive", json={})
        assert rest.status_code == 200, rest.text
        listed = api.get("/restocks", params={"sku": item.sku, "status": "received"}).json()
        assert listed["results"] == [rest.json()]  # the whole restock, as the list shows it
        assert (rest.json()["status"], rest.json()["quantity"]) == ("received", 10)
        again = api.post(f"/restocks/{part.pk}/receive", json={})
        assert again.json()["receipt"] == rest.json()["receipt"]
        refused = api.post(f"/restocks/{dropped.pk}/receive", json={})
        assert refused.status_code == 400 and "cancelled" in refused.json()["error"]["message"]
    assert selectors.stock_answer(sku=item.sku)["quantity"] == 10
    assert Movement.objects.get(pk=rest.json()["receipt"]).quantity == 6


def test_time_zone_names_are_validated_and_a_vanished_zone_falls_back_to_utc(solo, keeper_client):
    from django.core.exceptions import ValidationError

    from tenancy.models import Tenant
    from tenancy.validators import validate_time_zone

    assert validate_time_zone("Europe/Berlin") == "Europe/Berlin"
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "UTC\x00"):
        with pytest.raises(ValidationError, match="unknown time zone"):
            validate_time_zone(bad)
    tenant = solo[0]
    Tenant.objects.filter(pk=tenant.pk).update(time_zone="Gone/Away")  # e.g. tzdata changed
    try:
        page = keeper_client.get("/admin/inventory/movement/")
        assert page.status_code == 200 and b"Times are in UTC." in page.content
    finally:
        Tenant.objects.filter(pk=tenant.pk).update(time_zone="UTC")


def test_stocktake_upload_refuses_non_utf8_oversized_and_bad_headers(solo, keeper_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inventory.admin import STOCKTAKE_MAX_BYTES

    cases = {
        b"sku,name,location,quantity\nSOLO-1,,ONLY,\xff\n": "not UTF-8",
        b"sku;name;location;quantity\n": "line 1: the header must be exactly",
        b"sku,name,location,quantity\n" + b"X" * STOCKTAKE_MAX_BYTES: "larger than 1024 KiB",
    }
    for body, why in cases.items():
        answer = keeper_client.post(
            "/admin/inventory/item/import/", {"file": SimpleUploadedFile("s.csv", body)}
        )
        text = answer.content.decode()
        assert answer.status_code == 200 and text.count(why) == 1, why
        assert "nothing was imported" in text and 'name="apply"' not in text
    with schema_context("solo_keeper"):
        assert not Movement.objects.filter(actor__endswith=":import").exists()


def test_oversized_and_malformed_move_input_is_a_form_error_and_records_nothing(
    solo, keeper_client
):
    _, only, item, _ = solo
    token = "0f0e0d0c-0b0a-4908-8706-050403020100"
    with schema_context("solo_keeper"):
        before = Movement.objects.filter(item=item).count()
    cases = [
        ("receive", {"to_location": only.pk, "quantity": "2147483648", "reason": "r"}),
        ("receive", {"to_location": only.pk, "quantity": "1", "reason": "r" * 256}),
        ("receive", {"to_location": "999999", "quantity": "1", "reason": "r"}),
        ("receive", {"to_location": only.pk, "quantity": "1e3", "reason": "r"}),
        ("adjust", {"location": only.pk, "change": "-2147483648", "reason": "r"}),
        ("count", {"location": only.pk, "counted": "-1", "reason": "r"}),
        (
            "transfer",
            {"from_location": only.pk, "to_location": only.pk, "quantity": "1", "reason": "r"},
        ),
        ("issue", {"from_location": only.pk, "quantity": "1", "reason": ""}),
    ]
    for move, form in cases:
        answer = keeper_client.post(
            f"/admin/inventory/item/{item.pk}/{move}/", form | {"token": token}
        )
        assert answer.status_code == 200, (move, form)
        assert b"errorlist" in answer.content or b"errornote" in answer.content, (move, form)
    with schema_context("solo_keeper"):
        assert Movement.objects.filter(item=item).count() == before
