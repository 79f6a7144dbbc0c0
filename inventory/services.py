"""Everything that writes inventory data. Stock changes only through movement_record."""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory.models import (
    Item,
    Location,
    Movement,
    MovementKind,
    Restock,
    RestockStatus,
    StockLevel,
)
from inventory.validators import validate_sku
from tenancy.statements import fetch_one, tenant_schema

MAX_QUANTITY = 2_147_483_647  # on-hand and movement quantities are PostgreSQL integers


class InventoryError(Exception):
    """A business rule refused the write; the message says which and why."""

    code = "invalid"


class OutOfRange(InventoryError):
    code = "out_of_range"


class InsufficientStock(InventoryError):
    code = "insufficient_stock"


class IdempotencyConflict(InventoryError):
    code = "idempotency_conflict"


class NotFound(InventoryError):
    code = "not_found"


@dataclass(frozen=True)
class MovementResult:
    movement: Movement
    replayed: bool


def item_create(
    *, sku: str, name: str, unit: str = "each", reorder_point: int = 0, active: bool = True
) -> Item:
    """Create an item; the SKU must follow the SKU rule and be new in this tenant."""
    item = Item(
        sku=validate_sku(sku), name=name, unit=unit, reorder_point=reorder_point, active=active
    )
    item.full_clean()
    item.save()
    return item


def item_update(*, item: Item, **fields: object) -> Item:
    """Change an item's descriptive fields (never its on-hand, which only movements change)."""
    allowed = {"name", "unit", "reorder_point", "active"}
    unknown = set(fields) - allowed
    if unknown:
        raise InventoryError(f"cannot update {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        setattr(item, key, value)
    item.full_clean()
    item.save(update_fields=list(fields) or None)
    return item


def location_create(*, code: str, name: str) -> Location:
    location = Location(code=code, name=name)
    location.full_clean()
    location.save()
    return location


def location_update(*, location: Location, name: str) -> Location:
    """Rename a location; its code is its identity in every interface and stays."""
    location.name = name
    location.full_clean()
    location.save(update_fields=["name"])
    return location


def _plan(kind: str, quantity: int, from_loc: Location | None, to_loc: Location | None) -> None:
    if not 0 < quantity <= MAX_QUANTITY:
        raise OutOfRange(f"quantity must be a whole number from 1 to {MAX_QUANTITY}")
    needs = {
        MovementKind.RECEIPT: (False, True),
        MovementKind.ISSUE: (True, False),
        MovementKind.TRANSFER: (True, True),
    }.get(MovementKind(kind))
    if needs and (needs != (from_loc is not None, to_loc is not None)):
        raise InventoryError(
            f"a {kind} needs {'a source' if needs[0] else 'no source'} and "
            f"{'a destination' if needs[1] else 'no destination'} location"
        )
    if not needs and (from_loc is None) == (to_loc is None):
        raise InventoryError(f"a {kind} takes exactly one of source or destination location")
    if from_loc is not None and from_loc == to_loc:
        raise InventoryError("source and destination must differ")


@dataclass(frozen=True)
class _Asked:
    """One movement as the caller asks for it: what a retry with the same key must repeat."""

    kind: str
    item: Item
    quantity: int
    f: Location | None
    t: Location | None
    reason: str

    def matches(self, m: Movement) -> bool:
        # The reason counts too: a retry resends the same body, so a changed reason is a new request.
        return (m.kind, m.item_id, m.quantity, m.from_location_id, m.to_location_id, m.reason) == (
            self.kind,
            self.item.pk,
            self.quantity,
            self.f.pk if self.f else None,
            self.t.pk if self.t else None,
            self.reason,
        )


def _replay(key: str, asked: _Asked) -> MovementResult | None:
    existing = Movement.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if not asked.matches(existing):
        raise IdempotencyConflict(
            f"idempotency key {key!r} was already used for a different movement"
        )
    return MovementResult(movement=existing, replayed=True)


def _create_levels(item: Item, locations: list[Location]) -> None:
    """Stock level rows (on-hand 0) for the locations that have none yet, for a movement."""
    StockLevel.objects.bulk_create(
        [StockLevel(item=item, location=loc) for loc in locations], ignore_conflicts=True
    )


def _lock_levels(item: Item, locations: list[Location]) -> dict[int, StockLevel]:
    """The item's levels at `locations`, created if missing, locked until the transaction ends."""
    _create_levels(item, locations)
    # Locked in a fixed order (location id), as a movement locks them (_MOVE_SQL).
    rows = (
        StockLevel.objects.select_for_update()
        .filter(item=item, location__in=locations)
        .order_by("location_id")
    )
    return {row.location_id: row for row in rows}


def movement_record(
    *,
    kind: str,
    item: Item,
    quantity: int,
    actor: str,
    from_location: Location | None = None,
    to_location: Location | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> MovementResult:
    """Append a movement and apply it to on-hand in one transaction.

    Refuses (InsufficientStock) anything that would take a location below zero; never clips.
    A repeated idempotency key returns the original movement and records nothing new.
    """
    _plan(kind, quantity, from_location, to_location)
    asked = _Asked(kind, item, quantity, from_location, to_location, reason)
    if idempotency_key and (hit := _replay(idempotency_key, asked)):
        return hit
    try:
        if connection.in_atomic_block:  # the caller's transaction: a savepoint, as before
            with transaction.atomic():
                return _apply(asked, actor, idempotency_key)
        return _apply(asked, actor, idempotency_key)  # one statement, committed on its own
    except IntegrityError:
        # A concurrent writer recorded the same idempotency key first: answer with its movement.
        if idempotency_key and (hit := _replay(idempotency_key, asked)):
            return hit
        raise


# A movement is one statement: lock the item's levels at its locations in a fixed order (location
# id, so two transfers in opposite directions cannot deadlock), check them, apply it and append
# it to the ledger, or do nothing. Run as a statement of its own (autocommit, or a savepoint in a
# caller's transaction), the row locks are held for the statement and its commit only, with no
# Python between them: 8 writers on one hot SKU had queued behind a lock held across five round
# trips and the ORM work between them (`make bench`, scenario G).
_MOVE_SQL = """
WITH locked AS (
    SELECT id, location_id, on_hand FROM {levels}
    WHERE item_id = %(item)s AND location_id = ANY(%(locations)s)
    ORDER BY location_id FOR UPDATE
), allowed AS (
    SELECT count(*) = %(needed)s AND coalesce(bool_and(
        CASE WHEN location_id = %(source)s THEN on_hand >= %(quantity)s
             ELSE on_hand <= %(ceiling)s END), true) AS ok
    FROM locked
), changed AS (
    UPDATE {levels} AS s
    SET on_hand = locked.on_hand
        + CASE WHEN s.location_id = %(source)s THEN -%(quantity)s ELSE %(quantity)s END
    FROM locked, allowed
    WHERE allowed.ok AND s.id = locked.id
    RETURNING s.id
), moved AS (
    INSERT INTO {movements} (kind, item_id, quantity, from_location_id, to_location_id, reason,
                             idempotency_key, actor, created_at)
    SELECT %(kind)s, %(item)s, %(quantity)s, %(source)s, %(destination)s, %(reason)s, %(key)s,
           %(actor)s, %(created_at)s
    FROM allowed WHERE allowed.ok
    RETURNING id
)
SELECT (SELECT id FROM moved), (SELECT count(*) FROM locked),
       (SELECT on_hand FROM locked WHERE location_id = %(source)s),
       (SELECT on_hand FROM locked WHERE location_id = %(destination)s)
"""


def _apply(asked: _Asked, actor: str, key: str | None) -> MovementResult:
    item, quantity, f, t = asked.item, asked.quantity, asked.f, asked.t
    locations = [loc for loc in (f, t) if loc is not None]
    params = {
        "item": item.pk,
        "locations": [loc.pk for loc in locations],
        "needed": len(locations),
        "source": f.pk if f else None,
        "destination": t.pk if t else None,
        "quantity": quantity,
        "ceiling": MAX_QUANTITY - quantity,
        "kind": asked.kind,
        "reason": asked.reason,
        "key": key or None,
        "actor": actor,
    }
    created_at = params["created_at"] = timezone.now()
    schema = tenant_schema()
    sql = _MOVE_SQL.format(
        levels=f"{schema}.{StockLevel._meta.db_table}",
        movements=f"{schema}.{Movement._meta.db_table}",
    )
    row = fetch_one(sql, params)
    if row is not None and row[0] is None and row[1] < len(locations):
        _create_levels(item, locations)  # a location this item was never at: on-hand 0 there
        row = fetch_one(sql, params)
    assert row is not None  # noqa: S101 - the statement always returns one row
    pk, _, source_on_hand, destination_on_hand = row
    if pk is None:
        if f is not None and source_on_hand < quantity:
            raise InsufficientStock(
                f"insufficient stock of {item.sku} at {f.code}: {source_on_hand} on hand, "
                f"{quantity} requested"
            )
        assert t is not None  # noqa: S101 - only a destination's ceiling is left to refuse
        raise OutOfRange(
            f"on-hand of {item.sku} at {t.code} would exceed {MAX_QUANTITY}; record less"
        )
    movement = Movement(
        pk=pk,
        kind=asked.kind,
        item=item,
        quantity=quantity,
        from_location=f,
        to_location=t,
        reason=asked.reason,
        idempotency_key=key or None,
        actor=actor,
        created_at=created_at,
    )
    movement._state.adding, movement._state.db = False, connection.alias
    return MovementResult(movement=movement, replayed=False)


def _record_signed(
    *,
    kind: str,
    item: Item,
    location: Location,
    delta: int,
    actor: str,
    reason: str,
    idempotency_key: str | None = None,
) -> MovementResult:
    """A movement for a signed change at one location: + arrives there, - leaves it."""
    source, destination = (None, location) if delta > 0 else (location, None)
    return movement_record(
        kind=kind,
        item=item,
        quantity=abs(delta),
        actor=actor,
        reason=reason,
        idempotency_key=idempotency_key,
        from_location=source,
        to_location=destination,
    )


def stock_adjust(
    *,
    item: Item,
    location: Location,
    delta: int,
    reason: str,
    actor: str,
    idempotency_key: str | None = None,
) -> MovementResult:
    """Record an adjustment of `delta` (positive adds, negative removes) with a reason."""
    if not reason.strip():
        raise InventoryError("an adjustment needs a reason")
    if delta == 0:
        raise InventoryError("an adjustment must change the quantity")
    return _record_signed(
        kind=MovementKind.ADJUSTMENT,
        item=item,
        location=location,
        delta=delta,
        actor=actor,
        reason=reason,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def stock_count(
    *, item: Item, location: Location, counted: int, actor: str, reason: str = "stocktake"
) -> Movement | None:
    """Record a count: a movement for the difference to `counted`, or nothing if there is none."""
    if counted < 0:
        raise InventoryError("a counted quantity cannot be negative")
    level = _lock_levels(item, [location])[location.pk]
    if counted == level.on_hand:
        return None
    return _record_signed(
        kind=MovementKind.COUNT,
        item=item,
        location=location,
        delta=counted - level.on_hand,
        actor=actor,
        reason=reason,
    ).movement


@transaction.atomic
def stock_count_many(
    *, counts: list[tuple[Item, int]], location: Location, actor: str, reason: str
) -> int:
    """Record several counts at one location, all or none; return how many moved stock."""
    recorded = [
        stock_count(item=item, location=location, counted=counted, actor=actor, reason=reason)
        for item, counted in counts
    ]
    return sum(1 for movement in recorded if movement is not None)


def restock_create(
    *, item: Item, quantity: int, expected_date: date, location: Location | None = None
) -> Restock:
    restock = Restock(item=item, quantity=quantity, expected_date=expected_date, location=location)
    restock.full_clean()
    restock.save()
    return restock


def restock_update(
    *, restock: Restock, quantity: int, expected_date: date, location: Location | None
) -> Restock:
    """Change an open restock's plan (never its status or what was received)."""
    with transaction.atomic():
        locked = Restock.objects.select_for_update().get(pk=restock.pk)
        if locked.status != RestockStatus.OPEN:
            raise InventoryError(f"restock {locked.pk} is {locked.status} and cannot be changed")
        if quantity < locked.received_quantity:
            raise InventoryError(
                f"{locked.received_quantity} were already received: "
                "the quantity cannot be less than that"
            )
        locked.quantity, locked.expected_date, locked.location = quantity, expected_date, location
        locked.full_clean()
        locked.save(update_fields=["quantity", "expected_date", "location"])
    return locked


def _receipt_key(restock: Restock) -> str:
    # A receipt of everything in one go keeps the original key (the REST API's replay relies on
    # it); a later part is keyed by what had been received before it, so a retry replays.
    if restock.received_quantity == 0:
        return f"restock-{restock.pk}"
    return f"restock-{restock.pk}-after-{restock.received_quantity}"


@transaction.atomic
def restock_receive(
    *,
    restock: Restock,
    actor: str,
    location: Location | None = None,
    quantity: int | None = None,
    idempotency_key: str | None = None,
) -> MovementResult:
    """Receive an open restock in full or in part (`quantity`), recording a receipt movement
    into `location` (default: the restock's). What is not received yet stays open.

    Receiving a fully received restock again without a quantity replays its receipt; a repeated
    `idempotency_key` replays that receipt and changes nothing.
    """
    restock = Restock.objects.select_for_update().get(pk=restock.pk)
    if idempotency_key and (done := Movement.objects.filter(idempotency_key=idempotency_key)):
        if done.get().reason != f"restock #{restock.pk}":
            raise IdempotencyConflict(
                f"idempotency key {idempotency_key!r} was used for another move"
            )
        return MovementResult(movement=done.get(), replayed=True)
    if restock.status == RestockStatus.RECEIVED and restock.receipt and quantity is None:
        return MovementResult(movement=restock.receipt, replayed=True)
    if restock.status != RestockStatus.OPEN:
        raise InventoryError(f"restock {restock.pk} is {restock.status} and cannot be received")
    remaining = restock.quantity - restock.received_quantity
    wanted = remaining if quantity is None else quantity
    if not 0 < wanted <= remaining:
        raise OutOfRange(f"restock {restock.pk} has {remaining} left to receive, not {wanted}")
    target = location or restock.location
    if target is None:
        raise InventoryError("this restock has no location: say where it was received")
    result = movement_record(
        kind=MovementKind.RECEIPT,
        item=restock.item,
        quantity=wanted,
        to_location=target,
        actor=actor,
        reason=f"restock #{restock.pk}",
        idempotency_key=idempotency_key or _receipt_key(restock),
    )
    restock.received_quantity += wanted
    fields = ["received_quantity"]
    if restock.received_quantity == restock.quantity:
        restock.status, restock.receipt = RestockStatus.RECEIVED, result.movement
        fields += ["status", "receipt"]
    restock.save(update_fields=fields)
    return result


@transaction.atomic
def restock_cancel(*, restock: Restock) -> Restock:
    """Cancel what is still open of a restock (a partly received one keeps its receipts).
    Cancelling a cancelled restock changes nothing; a received one cannot be cancelled."""
    restock = Restock.objects.select_for_update().get(pk=restock.pk)
    if restock.status == RestockStatus.RECEIVED:
        raise InventoryError(f"restock {restock.pk} is received and cannot be cancelled")
    if restock.status == RestockStatus.OPEN:
        restock.status = RestockStatus.CANCELLED
        restock.save(update_fields=["status"])
    return restock
