"""The admin's stock-move forms: each parses one daily move and records it through services.

Every form carries a one-time token; it becomes the movement's idempotency key, so a form sent
twice (a double click, a resent POST) records one movement.
"""

import uuid
from typing import Any, ClassVar

from django import forms

from inventory import services
from inventory.models import Item, Location, MovementKind, Restock
from inventory.services import MAX_QUANTITY


def _location_field(label: str) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=Location.objects.all(), label=label)


def _quantity_field(label: str = "Quantity", **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=MAX_QUANTITY, **kwargs)


class TokenForm(forms.Form):
    """A form whose submission is recorded at most once (see the module docstring)."""

    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = uuid.uuid4()
        sole = list(Location.objects.all()[:2])
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and len(sole) == 1:
                field.initial = sole[0].pk  # one location: nothing to choose

    @property
    def idempotency_key(self) -> str:
        return f"admin:{self.cleaned_data['token']}"


class MoveForm(TokenForm):
    """A move of one item between locations (receive, issue, transfer). A receipt has only a
    `to_location` field, an issue only a `from_location`, a transfer both; a move that is not
    recorded as one movement (count, adjust) overrides `record`."""

    kind: ClassVar[str]
    title: ClassVar[str]
    verb: ClassVar[str]
    reason = forms.CharField(max_length=255, help_text="Goes into the ledger with the move.")

    def record(self, *, item: Item, actor: str) -> str:
        """Record the move through the services; return the message for the keeper.
        Raises InventoryError when a business rule refuses it."""
        data = self.cleaned_data
        source, destination = data.get("from_location"), data.get("to_location")
        services.movement_record(
            kind=self.kind,
            item=item,
            quantity=data["quantity"],
            actor=actor,
            reason=data["reason"],
            idempotency_key=self.idempotency_key,
            from_location=source,
            to_location=destination,
        )
        where = (f" from {source}" if source else "") + (
            f" to {destination}" if destination else ""
        )
        return f"{self.verb} {data['quantity']} {item.sku}{where}."


class ReceiveForm(MoveForm):
    kind, title, verb = MovementKind.RECEIPT, "Receive", "Received"
    to_location = _location_field("Into location")
    quantity = _quantity_field()
    field_order = ["to_location", "quantity", "reason"]


class IssueForm(MoveForm):
    kind, title, verb = MovementKind.ISSUE, "Issue", "Issued"
    from_location = _location_field("From location")
    quantity = _quantity_field()
    field_order = ["from_location", "quantity", "reason"]


class TransferForm(MoveForm):
    kind, title, verb = MovementKind.TRANSFER, "Transfer", "Moved"
    from_location = _location_field("From location")
    to_location = _location_field("To location")
    quantity = _quantity_field()
    field_order = ["from_location", "to_location", "quantity", "reason"]


class CountForm(MoveForm):
    kind, title, verb = MovementKind.COUNT, "Count", "Counted"
    location = _location_field("Location")
    counted = forms.IntegerField(label="Counted", min_value=0, max_value=MAX_QUANTITY)
    field_order = ["location", "counted", "reason"]

    def record(self, *, item: Item, actor: str) -> str:
        data = self.cleaned_data
        movement = services.stock_count(
            item=item,
            location=data["location"],
            counted=data["counted"],
            actor=actor,
            reason=data["reason"],
        )
        if movement is None:
            return f"Counted {data['counted']} {item.sku} at {data['location']}: no difference."
        return f"Counted {data['counted']} {item.sku} at {data['location']}."


class AdjustForm(MoveForm):
    kind, title, verb = MovementKind.ADJUSTMENT, "Adjust stock", "Adjusted"
    location = _location_field("Location")
    change = forms.IntegerField(
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text="Positive adds stock, negative removes it.",
    )
    field_order = ["location", "change", "reason"]

    def record(self, *, item: Item, actor: str) -> str:
        data = self.cleaned_data
        services.stock_adjust(
            item=item,
            location=data["location"],
            delta=data["change"],
            reason=data["reason"],
            actor=actor,
            idempotency_key=self.idempotency_key,
        )
        return f"Recorded an adjustment of {data['change']:+d} for {item.sku}."


MOVE_FORMS: dict[str, type[MoveForm]] = {
    "receive": ReceiveForm,
    "issue": IssueForm,
    "transfer": TransferForm,
    "count": CountForm,
    "adjust": AdjustForm,
}


class BulkCountForm(TokenForm):
    """Counted quantities for several items at one location (fields added per item)."""

    location = _location_field("Location")
    reason = forms.CharField(max_length=255, initial="stocktake")

    def __init__(self, *args: Any, items: list[Item], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"counted_{item.pk}"] = forms.IntegerField(
                label=f"{item.sku} counted", min_value=0, max_value=MAX_QUANTITY
            )

    def counts(self) -> list[tuple[Item, int]]:
        return [(item, self.cleaned_data[f"counted_{item.pk}"]) for item in self.items]


class RestockReceiveForm(TokenForm):
    """All or part of what an open restock still expects, into a location."""

    location = _location_field("Into location")
    quantity = _quantity_field(help_text="What arrived; the rest stays open.")

    def __init__(self, *args: Any, restock: Restock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quantity"].initial = restock.remaining
        if restock.location_id:
            self.fields["location"].initial = restock.location_id


class StocktakeUploadForm(forms.Form):
    file = forms.FileField(
        label="Stocktake CSV", help_text="Header: sku,name,location,quantity (UTF-8)."
    )
