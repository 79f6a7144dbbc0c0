"""The stock keepers' admin, on each tenant's domain. Thin: every write goes through services."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django_tenants.utils import get_public_schema_name

from inventory import selectors, services
from inventory.models import Item, Location, Movement, Restock, RestockStatus, StockLevel


def actor_for(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


class TenantOnlyAdmin(admin.ModelAdmin):
    """Shown only in a tenant's admin; the public schema has no inventory tables."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        in_tenant = tenant is not None and tenant.schema_name != get_public_schema_name()
        return in_tenant and super().has_module_permission(request)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StockLevelInline(ReadOnlyMixin, admin.TabularInline):
    model = StockLevel
    fields = ("location", "on_hand")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "Stock per location (change it with “Adjust stock”)"


class LowStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("low", "At or below reorder point")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Item]) -> QuerySet[Item]:
        if self.value() == "low":
            return queryset.filter(active=True, on_hand__lte=F("reorder_point"))  # type: ignore[misc]
        return queryset


class AdjustStockForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.all())
    change = forms.IntegerField(help_text="Positive adds stock, negative removes it.")
    reason = forms.CharField(max_length=255)


@admin.register(Item)
class ItemAdmin(TenantOnlyAdmin):
    list_display = ("sku", "name", "total_on_hand", "reorder_point", "next_restock", "active")
    list_filter = (LowStockFilter, "active")
    search_fields = ("sku", "name")
    readonly_fields = ("total_on_hand", "next_restock")
    inlines = [StockLevelInline]
    change_form_template = "admin/inventory/item/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        return selectors.item_list_with_stock()

    @admin.display(description="On hand (total)", ordering="on_hand")
    def total_on_hand(self, obj: Item) -> int:
        return obj.on_hand  # type: ignore[attr-defined]

    @admin.display(description="Next restock", ordering="next_restock")
    def next_restock(self, obj: Item) -> object:
        return obj.next_restock or "—"  # type: ignore[attr-defined]

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<int:item_id>/adjust/",
            self.admin_site.admin_view(self.adjust_view),
            name="inventory_item_adjust",
        )
        return [adjust, *super().get_urls()]

    def adjust_view(self, request: HttpRequest, item_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        item = get_object_or_404(Item, pk=item_id)
        form = AdjustStockForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.stock_adjust(
                    item=item,
                    location=form.cleaned_data["location"],
                    delta=form.cleaned_data["change"],
                    reason=form.cleaned_data["reason"],
                    actor=actor_for(request),
                )
            except services.InventoryError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"Recorded an adjustment of {form.cleaned_data['change']:+d} for {item.sku}.",
                )
                return HttpResponseRedirect(reverse("admin:inventory_item_change", args=[item.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust stock: {item.sku}",
            "item": item,
            "form": form,
            "opts": self.model._meta,
            "snapshot": selectors.stock_snapshot(sku=item.sku),
            "locations": selectors.stock_by_location(sku=item.sku),
        }
        return TemplateResponse(request, "admin/inventory/item/adjust.html", context)

    def save_model(self, request: HttpRequest, obj: Item, form: Any, change: bool) -> None:
        try:
            if change:
                fields = {f: form.cleaned_data[f] for f in form.changed_data if f != "sku"}
                services.item_update(item=obj, **fields)
            else:
                services.item_create(
                    sku=obj.sku,
                    name=obj.name,
                    unit=obj.unit,
                    reorder_point=obj.reorder_point,
                    active=obj.active,
                )
        except (ValidationError, services.InventoryError) as exc:
            raise ValidationError(str(exc)) from exc

    def get_readonly_fields(self, request: HttpRequest, obj: Item | None = None) -> tuple[str, ...]:
        # The SKU is the item's identity across every interface; it cannot change once created.
        return (*self.readonly_fields, "sku") if obj else self.readonly_fields


@admin.register(Location)
class LocationAdmin(TenantOnlyAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Restock)
class RestockAdmin(TenantOnlyAdmin):
    list_display = ("item", "quantity", "location", "expected_date", "status")
    list_filter = ("status", "expected_date")
    search_fields = ("item__sku", "item__name")
    autocomplete_fields = ("item",)
    readonly_fields = ("receipt",)
    actions = ["mark_received"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Restock | None = None
    ) -> tuple[str, ...]:
        if obj and obj.status != RestockStatus.OPEN:
            return ("item", "location", "quantity", "expected_date", "status", "receipt")
        return self.readonly_fields

    @admin.action(description="Mark received (records a receipt)")
    def mark_received(self, request: HttpRequest, queryset: QuerySet[Restock]) -> None:
        for restock in queryset:
            try:
                services.restock_receive(restock=restock, actor=actor_for(request))
            except services.InventoryError as exc:
                self.message_user(request, f"Restock #{restock.pk}: {exc}", level=messages.ERROR)
            else:
                self.message_user(request, f"Restock #{restock.pk} received.")


@admin.register(Movement)
class MovementAdmin(ReadOnlyMixin, TenantOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "item",
        "quantity",
        "from_location",
        "to_location",
        "reason",
        "actor",
    )
    list_filter = ("kind", "created_at", "item")
    search_fields = ("item__sku", "reason", "idempotency_key")
    date_hierarchy = "created_at"


# --- Low-stock job (issue 7) -----------------------------------------------------------------

from django.utils.html import format_html_join  # noqa: E402
from django.utils.safestring import mark_safe  # noqa: E402

from inventory.models import LowStockReport, ReportSettings  # noqa: E402


@admin.register(LowStockReport)
class LowStockReportAdmin(ReadOnlyMixin, TenantOnlyAdmin):
    """The low-stock job's results for this tenant, newest first (written by the beat task)."""

    list_display = ("created_at", "item_count", "low_skus", "webhook_status", "webhook_attempts")
    list_filter = ("webhook_status",)
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "item_count",
        "items_table",
        "webhook_status",
        "webhook_attempts",
        "webhook_delivered_at",
        "webhook_last_error",
    )
    readonly_fields = fields

    @admin.display(description="Low SKUs")
    def low_skus(self, obj: LowStockReport) -> str:
        skus = [row["sku"] for row in obj.items[:5]]
        return ", ".join(skus) + (" …" if obj.item_count > 5 else "")

    @admin.display(description="Items")
    def items_table(self, obj: LowStockReport) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (r["sku"], r["name"], r["on_hand"], r["reorder_point"], r["next_restock"] or "—")
                for r in obj.items
            ),
        )
        head = (
            "<tr><th>SKU</th><th>Name</th><th>On hand</th><th>Reorder point</th>"
            "<th>Next restock</th></tr>"
        )
        return format_html_join("", "<table>{}{}</table>", [(mark_safe(head), rows)])  # noqa: S308


@admin.register(ReportSettings)
class ReportSettingsAdmin(TenantOnlyAdmin):
    """One row per tenant: where the low-stock report is POSTed."""

    list_display = ("__str__", "low_stock_webhook_url")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ReportSettings.objects.exists() and super().has_add_permission(request)
