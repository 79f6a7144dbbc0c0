"""Per-tenant inventory data. Models hold data and invariants; rules live in services."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from inventory.validators import SKU_MAX_LENGTH, validate_sku

# --- Choices: the closed sets of values some fields hold -----------------------------------------


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ISSUE = "issue", "Issue"
    TRANSFER = "transfer", "Transfer"
    ADJUSTMENT = "adjustment", "Adjustment"
    COUNT = "count", "Count"


class RestockStatus(models.TextChoices):
    OPEN = "open", "Open"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class WebhookStatus(models.TextChoices):
    NONE = "none", "No webhook configured"
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Location(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Item(models.Model):
    sku = models.CharField(max_length=SKU_MAX_LENGTH, unique=True, validators=[validate_sku])  # type: ignore[list-item]
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, default="each")
    reorder_point = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} - {self.name}"


class StockLevel(models.Model):
    """On-hand of one item at one location; changed only by services.movement_record."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)

    class Meta:
        ordering = ["item__sku", "location__code"]
        constraints = [
            models.UniqueConstraint(fields=["item", "location"], name="uniq_stock_item_location"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item.sku}@{self.location.code}: {self.on_hand}"


class Movement(models.Model):
    """An append-only ledger entry (a database trigger refuses UPDATE and DELETE).

    `quantity` is always positive: it leaves `from_location` and arrives at `to_location`, so
    on-hand at a location is the sum of what arrived there minus the sum of what left.
    """

    kind = models.CharField(max_length=12, choices=MovementKind.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements")
    quantity = models.PositiveIntegerField()
    from_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    actor = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            (
                "record_movement",
                "Can record stock movements (receive, issue, transfer, count, adjust)",
            ),
            ("import_stocktake", "Can import a stocktake"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="movement_quantity_positive"),
            models.CheckConstraint(
                condition=Q(from_location__isnull=False) | Q(to_location__isnull=False),
                name="movement_has_a_location",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} {self.item.sku}"


class Restock(models.Model):
    """Expected inbound stock. Each receipt (full or partial) records a receipt movement;
    `status` and `received_quantity` change only through services.restock_receive/_cancel."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="restocks")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
    expected_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=RestockStatus.choices, default=RestockStatus.OPEN
    )
    receipt = models.OneToOneField(
        Movement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="restock",
        help_text="The receipt that completed it (partial receipts are in the ledger too).",
    )
    received_quantity = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["expected_date", "id"]
        indexes = [models.Index(fields=["item", "status", "expected_date"])]
        permissions = [("receive_restock", "Can receive or cancel a restock")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="restock_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")),
                name="restock_received_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.item.sku} on {self.expected_date} ({self.status})"

    @property
    def remaining(self) -> int:
        """What is still expected (0 once received or cancelled)."""
        if self.status != RestockStatus.OPEN:
            return 0
        return self.quantity - self.received_quantity


# --- Low-stock job (issue 7): written by inventory.low_stock, shown in the tenant admin ----------


class LowStockReport(models.Model):
    """One run of the low-stock job in this tenant: the active items at or below reorder point."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    item_count = models.PositiveIntegerField(default=0)
    items = models.JSONField(
        default=list,
        blank=True,  # a tenant with nothing low gets an empty report, not an error
        help_text="sku, name, on_hand, reorder_point, next_restock per item.",
    )
    webhook_status = models.CharField(
        max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.NONE
    )
    webhook_attempts = models.PositiveIntegerField(default=0)
    webhook_delivered_at = models.DateTimeField(null=True, blank=True)
    webhook_last_error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.item_count} low on {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"


class ReportSettings(models.Model):
    """This tenant's settings for the low-stock job (a single row)."""

    low_stock_webhook_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Each low-stock report is POSTed here as JSON, retried with backoff. "
        "Empty: no webhook.",
    )
    webhook_secret = models.CharField(
        max_length=128,
        blank=True,
        help_text="If set, deliveries carry X-Inventory-Signature: sha256=<HMAC of the body>.",
    )

    class Meta:
        verbose_name = "report settings"
        verbose_name_plural = "report settings"

    def __str__(self) -> str:
        return "Report settings"
