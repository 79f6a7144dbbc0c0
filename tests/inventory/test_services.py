"""The ledger rules, on real PostgreSQL: atomic, never negative, idempotent, append-only."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from inventory import selectors, services
from inventory.models import Item, Location, Movement, MovementKind, Restock, StockLevel


@pytest.fixture
def stock(in_tenant_a, unique_sku):
    item = services.item_create(sku=unique_sku, name="Widget", reorder_point=5)
    loc_code = unique_sku[-6:]
    here = services.location_create(code=f"H{loc_code}", name="Here")
    there = services.location_create(code=f"T{loc_code}", name="There")
    return item, here, there


def receive(item, loc, qty, key=None):
    return services.movement_record(
        kind=MovementKind.RECEIPT,
        item=item,
        quantity=qty,
        to_location=loc,
        actor="test",
        idempotency_key=key,
    )


def test_issue_larger_than_on_hand_is_refused_not_clipped(stock):
    item, here, _ = stock
    receive(item, here, 3)
    with pytest.raises(services.InsufficientStock, match="3 on hand, 5 requested"):
        services.movement_record(
            kind=MovementKind.ISSUE, item=item, quantity=5, from_location=here, actor="t"
        )
    assert selectors.stock_answer(sku=item.sku)["quantity"] == 3
    assert Movement.objects.filter(item=item).count() == 1


def test_idempotency_key_replay_records_once(stock):
    item, here, _ = stock
    first = receive(item, here, 4, key=f"k-{item.sku}")
    again = receive(item, here, 4, key=f"k-{item.sku}")
    assert again.replayed and again.movement.pk == first.movement.pk
    assert Movement.objects.filter(item=item).count() == 1
    assert selectors.stock_answer(sku=item.sku)["quantity"] == 4
    with pytest.raises(services.IdempotencyConflict):
        receive(item, here, 5, key=f"k-{item.sku}")


def test_the_ledger_is_append_only_in_the_database(stock):
    item, here, _ = stock
    movement = receive(item, here, 2).movement
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Movement.objects.filter(pk=movement.pk).update(quantity=99)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Movement.objects.filter(pk=movement.pk).delete()


def test_on_hand_cannot_go_negative_even_bypassing_services(stock):
    item, here, _ = stock
    receive(item, here, 1)
    with pytest.raises(DatabaseError), transaction.atomic():
        StockLevel.objects.filter(item=item).update(on_hand=-1)


def test_transfer_moves_between_locations_and_keeps_the_total(stock):
    item, here, there = stock
    receive(item, here, 10)
    services.movement_record(
        kind=MovementKind.TRANSFER,
        item=item,
        quantity=4,
        from_location=here,
        to_location=there,
        actor="t",
    )
    assert selectors.stock_by_location(sku=item.sku) == [
        {"location": here.code, "quantity": 6},
        {"location": there.code, "quantity": 4},
    ]
    assert selectors.stock_answer(sku=item.sku)["quantity"] == 10


def test_count_records_only_the_difference(stock):
    item, here, _ = stock
    receive(item, here, 10)
    movement = services.stock_count(item=item, location=here, counted=7, actor="t")
    assert movement is not None and movement.kind == "count" and movement.from_location == here
    assert services.stock_count(item=item, location=here, counted=7, actor="t") is None
    assert selectors.stock_answer(sku=item.sku)["quantity"] == 7


def test_snapshot_restock_date_is_the_earliest_open_one_from_today(stock):
    item, here, _ = stock
    today = timezone.localdate()
    services.restock_create(
        item=item, quantity=5, expected_date=today - timedelta(days=1), location=here
    )
    later = services.restock_create(
        item=item, quantity=5, expected_date=today + timedelta(days=9), location=here
    )
    soon = services.restock_create(
        item=item, quantity=5, expected_date=today + timedelta(days=2), location=here
    )
    assert selectors.stock_answer(sku=item.sku)["restock_date"] == soon.expected_date.isoformat()
    services.restock_receive(restock=soon, actor="t")
    snapshot = selectors.stock_answer(sku=item.sku)
    assert snapshot == {
        "sku": item.sku,
        "found": True,
        "quantity": 5,
        "restock_date": later.expected_date.isoformat(),
    }


def test_receiving_a_restock_twice_records_one_receipt(stock):
    item, here, _ = stock
    restock = services.restock_create(
        item=item, quantity=8, expected_date=timezone.localdate(), location=here
    )
    first = services.restock_receive(restock=restock, actor="t")
    second = services.restock_receive(restock=restock, actor="t")
    assert second.replayed and first.movement.pk == second.movement.pk
    assert Restock.objects.get(pk=restock.pk).status == "received"
    assert selectors.stock_answer(sku=item.sku)["quantity"] == 8


def test_unknown_sku_is_not_found_with_null_quantity(in_tenant_a):
    assert selectors.stock_answer(sku="NO-SUCH-SKU") == {
        "sku": "NO-SUCH-SKU",
        "found": False,
        "quantity": None,
        "restock_date": None,
    }


def test_concurrent_writers_keep_on_hand_equal_to_the_ledger(tenant_a):
    """8 threads x 200 random movements on the same few items."""
    schema = tenant_a.schema_name
    with schema_context(schema):
        items = [
            services.item_create(sku=f"CONC-{i}-{random.randint(0, 10**9)}", name="c")
            for i in range(3)
        ]
        locations = [
            services.location_create(code=f"C{i}{random.randint(0, 10**6)}", name="c")
            for i in range(2)
        ]
    outcomes: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with schema_context(schema):
                for n in range(200):
                    outcome = _random_movement(rng, items, locations, key=f"conc-{seed}-{n}")
                    with lock:
                        outcomes.append(outcome)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(outcomes) == 1600
    refused = [o for o in outcomes if o[0] == "refused"]
    assert refused and all("insufficient stock" in msg for _, msg in refused)
    with schema_context(schema):
        recorded = Movement.objects.filter(item__in=items).count()
        assert recorded == len(outcomes) - len(refused)
        for item in items:
            levels = dict(
                StockLevel.objects.filter(item=item).values_list("location_id", "on_hand")
            )
            ledger = selectors.ledger_balance(item=item)
            assert {k: v for k, v in levels.items() if v or k in ledger} == ledger
            assert all(v >= 0 for v in levels.values())
    connection.close()


def _random_movement(
    rng: random.Random, items: list[Item], locations: list[Location], key: str
) -> tuple[str, str]:
    item, (a, b) = rng.choice(items), rng.sample(locations, 2)
    kind = rng.choice(["receipt", "issue", "issue", "transfer", "adjustment"])
    qty = rng.randint(1, 20)
    kwargs = {
        "receipt": {"to_location": a},
        "issue": {"from_location": a},
        "transfer": {"from_location": a, "to_location": b},
        "adjustment": {"from_location": a} if rng.random() < 0.5 else {"to_location": a},
    }[kind]
    try:
        services.movement_record(
            kind=kind, item=item, quantity=qty, actor="thread", idempotency_key=key, **kwargs
        )
    except services.InsufficientStock as exc:
        return ("refused", str(exc))
    return ("recorded", kind)


def test_on_hand_overflow_is_a_clear_refusal(stock):
    item, here, _ = stock
    receive(item, here, services.MAX_QUANTITY - 1)
    with pytest.raises(services.InventoryError, match="would exceed"):
        receive(item, here, 2)
    with pytest.raises(services.InventoryError, match="from 1 to"):
        receive(item, here, services.MAX_QUANTITY + 1)
    assert selectors.stock_answer(sku=item.sku)["quantity"] == services.MAX_QUANTITY - 1


def test_the_snapshot_agrees_with_the_annotated_item_list(stock):
    """stock_snapshot (hand-written SQL) and item_list_with_stock (ORM) compute the same thing."""
    item, here, there = stock
    today = timezone.localdate()
    receive(item, here, 7)
    receive(item, there, 5)
    services.restock_create(
        item=item, quantity=1, expected_date=today + timedelta(days=4), location=here
    )
    services.restock_create(
        item=item, quantity=1, expected_date=today + timedelta(days=1), location=here
    )
    cancelled = services.restock_create(item=item, quantity=1, expected_date=today, location=here)
    Restock.objects.filter(pk=cancelled.pk).update(status="cancelled")
    annotated = selectors.item_list_with_stock().get(pk=item.pk)
    snapshot = selectors.stock_snapshot(sku=item.sku)
    assert snapshot["on_hand"] == annotated.on_hand == 12
    assert (
        snapshot["next_restock"]
        == annotated.next_restock.isoformat()
        == (today + timedelta(days=1)).isoformat()
    )
