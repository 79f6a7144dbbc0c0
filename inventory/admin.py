"""The stock keepers' admin, on each tenant's domain. Thin: every write goes through services.

Stock changes only by moves recorded in the ledger (the forms in inventory.admin_forms); a
restock's status changes only by receiving or cancelling it. Who may do what is the permission
set of inventory.roles.
"""

import io
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django_tenants.utils import get_public_schema_name

from inventory import exports, selectors, services
from inventory.admin_forms import (
    MOVE_FORMS,
    BulkCountForm,
    RestockReceiveForm,
    StocktakeUploadForm,
)
from inventory.charts import stock_chart_svg
from inventory.labels import labels_pdf
from inventory.models import (
    Item,
    Location,
    LowStockReport,
    Movement,
    ReportSettings,
    Restock,
    RestockStatus,
)
from inventory.stocktake import (
    StocktakeError,
    stocktake_import,
    stocktake_parse,
    stocktake_preview,
)

STOCKTAKE_MAX_BYTES = 1024 * 1024
STOCKTAKE_SESSION_KEY = "stocktake:"


def actor_for(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


def _in_tenant(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name != get_public_schema_name()


def _require(request: HttpRequest, perm: str) -> None:
    """Refuse (404 outside a tenant, 403 without `perm`) before a custom admin view runs."""
    if not _in_tenant(request):
        raise Http404("no inventory here")
    if not request.user.has_perm(f"inventory.{perm}"):
        raise PermissionDenied


class TenantOnlyAdmin(admin.ModelAdmin):
    """Shown only in a tenant's admin; the public schema has no inventory tables."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _in_tenant(request) and super().has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger keeps history: nothing in a tenant's inventory is deleted here

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {**(extra_context or {}), **self.change_context(request, object_id)}
        return super().change_view(request, object_id, form_url, context)

    def change_context(self, request: HttpRequest, object_id: str) -> dict[str, Any]:
        """What this admin's change page template adds to Django's context (nothing here)."""
        return {}

    def form_page(self, request: HttpRequest, template: str, **context: Any) -> TemplateResponse:
        """A page of this model's admin with the admin's header, breadcrumbs and media."""
        page = {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        return TemplateResponse(request, f"admin/inventory/{template}", page)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ExportMixin(TenantOnlyAdmin):
    """CSV and XLSX downloads of the changelist as filtered (links in the object tools)."""

    export_name: str
    export_table: Callable[[QuerySet[Any]], exports.Table]

    def get_urls(self) -> list[URLPattern]:
        info = self.model._meta.app_label, self.model._meta.model_name
        export = path(
            "export/<str:fmt>/",
            self.admin_site.admin_view(self.export_view),
            name="{}_{}_export".format(*info),
        )
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        if not _in_tenant(request) or fmt not in exports.FORMATS:
            raise Http404("no such export")
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request)
        body = exports.render(self.export_table(queryset), fmt)
        response = HttpResponse(body, content_type=exports.FORMATS[fmt])
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        filename = f"{request.tenant.schema_name}-{self.export_name}-{stamp}.{fmt}"  # type: ignore[attr-defined]
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- Items -----------------------------------------------------------------------------------


class LowStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("low", "At or below reorder point")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Item]) -> QuerySet[Item]:
        if self.value() == "low":
            return queryset.filter(selectors.LOW_STOCK)
        return queryset


def _signed(delta: int, quantity: int) -> str:
    """A movement's change to its item's total: "+5", "−3", or "3 moved" for a transfer."""
    if delta == 0:
        return f"{quantity} moved"
    return f"+{delta}" if delta > 0 else f"\u2212{-delta}"


@admin.register(Item)
class ItemAdmin(ExportMixin):
    list_display = ("sku", "name", "total_on_hand", "reorder_point", "next_restock", "active")
    list_filter = (LowStockFilter, "active")
    search_fields = ("sku", "name")
    readonly_fields = ("total_on_hand", "next_restock")
    fields = ("sku", "name", "unit", "reorder_point", "active", "total_on_hand", "next_restock")
    change_form_template = "admin/inventory/item/change_form.html"
    change_list_template = "admin/inventory/item/change_list.html"
    actions = ["count_selected", "deactivate_selected", "labels_selected"]
    export_name = "items"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        return selectors.item_list_with_stock()

    @admin.display(description="On hand (total)", ordering="on_hand")
    def total_on_hand(self, obj: Item) -> SafeString:
        low = obj.active and obj.on_hand <= obj.reorder_point  # type: ignore[attr-defined]
        css = "on-hand low-stock" if low else "on-hand"
        title = "at or below the reorder point" if low else ""
        return format_html('<span class="{}" title="{}">{}</span>', css, title, obj.on_hand)  # type: ignore[attr-defined]

    @admin.display(description="Next restock", ordering="next_restock")
    def next_restock(self, obj: Item) -> object:
        return obj.next_restock or "—"  # type: ignore[attr-defined]

    export_table = staticmethod(exports.items_table)

    # Permissions for the actions and views below (see inventory.roles).
    def has_record_movement_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.record_movement")

    def has_import_stocktake_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.import_stocktake")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        moves = [
            path(
                f"<int:item_id>/{name}/",
                view(self.move_view),
                {"move": name},
                name=f"inventory_item_{name}",
            )
            for name in MOVE_FORMS
        ]
        stocktake = path("import/", view(self.import_view), name="inventory_item_import")
        return [*moves, stocktake, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # A keyboard-wedge scanner types the SKU and Enter: an exact SKU opens that item.
        query = request.GET.get("q", "").strip()
        if (
            query
            and _in_tenant(request)
            and self.has_view_permission(request)
            and (hit := Item.objects.filter(sku=query).first())
        ):
            return HttpResponseRedirect(reverse("admin:inventory_item_change", args=[hit.pk]))
        context = {
            **(extra_context or {}),
            "can_import": self.has_import_stocktake_permission(request),
        }
        return super().changelist_view(request, context)

    def change_context(self, request: HttpRequest, object_id: str) -> dict[str, Any]:
        item = Item.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if item is None or not _in_tenant(request):
            return {}
        series = selectors.item_stock_series(item=item)
        return {
            "stock_rows": selectors.stock_by_location(sku=item.sku),
            "recent": [
                (m, _signed(m.delta, m.quantity))  # type: ignore[attr-defined]
                for m in selectors.item_recent_movements(item=item)
            ],
            "chart": stock_chart_svg(
                series, label=f"On-hand of {item.sku} over the last {len(series)} days"
            ),
            "moves": [(name, form.title) for name, form in MOVE_FORMS.items()],
            "can_move": self.has_record_movement_permission(request),
        }

    def move_view(self, request: HttpRequest, item_id: int, move: str) -> HttpResponse:
        _require(request, "record_movement")
        item = get_object_or_404(Item, pk=item_id)
        form_class = MOVE_FORMS[move]
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                done = form.record(item=item, actor=actor_for(request))
            except services.InventoryError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, done)
                return HttpResponseRedirect(reverse("admin:inventory_item_change", args=[item.pk]))
        snapshot = selectors.stock_snapshot(sku=item.sku, by_location=True)  # one read
        return self.form_page(
            request,
            "item/move.html",
            title=f"{form_class.title}: {item.sku}",
            crumb=form_class.title,
            object=item,
            object_label=item.sku,
            item=item,
            form=form,
            move=move,
            submit=f"Record {form_class.title.lower()}",
            snapshot=snapshot,
            locations=snapshot["locations"],
        )

    @admin.action(description="Count selected items", permissions=["record_movement"])
    def count_selected(self, request: HttpRequest, queryset: QuerySet[Item]) -> HttpResponse | None:
        items = list(queryset.order_by("sku"))
        form = BulkCountForm(request.POST if "apply" in request.POST else None, items=items)
        if "apply" in request.POST and form.is_valid():
            try:
                moved = services.stock_count_many(
                    counts=form.counts(),
                    location=form.cleaned_data["location"],
                    actor=actor_for(request),
                    reason=form.cleaned_data["reason"],
                )
            except services.InventoryError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    f"Counted {len(items)} item(s) at {form.cleaned_data['location']}: "
                    f"{moved} changed.",
                )
                return None
        return self.form_page(
            request,
            "item/count_selected.html",
            title="Count selected items",
            form=form,
            rows=[(item, form[f"counted_{item.pk}"]) for item in items],
            action="count_selected",
        )

    @admin.action(description="Deactivate selected items", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[Item]) -> None:
        changed = 0
        for item in queryset.filter(active=True):
            services.item_update(item=item, active=False)
            changed += 1
        self.message_user(request, f"Deactivated {changed} item(s).")

    @admin.action(description="Print labels (PDF) for selected items", permissions=["view"])
    def labels_selected(self, request: HttpRequest, queryset: QuerySet[Item]) -> HttpResponse:
        pdf = labels_pdf(queryset.order_by("sku"), title="Item labels")
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="labels.pdf"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a stocktake CSV, see what it would change, then apply it (all rows or none)."""
        _require(request, "import_stocktake")
        if request.method == "POST" and "apply" in request.POST:
            return self._import_apply(request)
        upload = StocktakeUploadForm(request.POST or None, request.FILES or None)
        context: dict[str, Any] = {"title": "Import a stocktake", "upload": upload}
        if request.method == "POST" and upload.is_valid():
            try:
                text = _read_upload(upload.cleaned_data["file"])
                context["preview"] = stocktake_preview(stocktake_parse(_lines(text)))
            except StocktakeError as exc:
                upload.add_error("file", f"{exc}; nothing was imported")
            else:
                context["token"] = _stash_upload(request, text)
        return self.form_page(request, "item/import.html", **context)

    def _import_apply(self, request: HttpRequest) -> HttpResponse:
        text = request.session.pop(STOCKTAKE_SESSION_KEY + request.POST.get("token", ""), None)
        back = reverse("admin:inventory_item_import")
        if text is None:
            messages.error(
                request, "This preview was already applied or has expired; upload again."
            )
            return HttpResponseRedirect(back)
        try:
            result = stocktake_import(
                rows=stocktake_parse(_lines(text)), actor=f"{actor_for(request)}:import"
            )
        except StocktakeError as exc:
            messages.error(request, f"{exc}; nothing was imported")
            return HttpResponseRedirect(back)
        messages.success(
            request,
            f"Imported {result.rows} rows: {result.items_created} new items, "
            f"{result.locations_created} new locations, {result.movements} count movements.",
        )
        return HttpResponseRedirect(reverse("admin:inventory_item_changelist"))

    def save_model(self, request: HttpRequest, obj: Item, form: Any, change: bool) -> None:
        try:
            if change:
                fields = {f: form.cleaned_data[f] for f in form.changed_data if f != "sku"}
                services.item_update(item=obj, **fields)
            else:
                created = services.item_create(
                    sku=obj.sku,
                    name=obj.name,
                    unit=obj.unit,
                    reorder_point=obj.reorder_point,
                    active=obj.active,
                )
                obj.pk = created.pk
        except (ValidationError, services.InventoryError) as exc:
            raise ValidationError(str(exc)) from exc

    def get_readonly_fields(self, request: HttpRequest, obj: Item | None = None) -> tuple[str, ...]:
        # The SKU is the item's identity across every interface; it cannot change once created.
        return (*self.readonly_fields, "sku") if obj else self.readonly_fields


def _stash_upload(request: HttpRequest, text: str) -> str:
    """Keep an uploaded stocktake in the session until it is applied; only the latest one
    (an earlier preview that was never applied is forgotten). Returns its one-time token."""
    stale = [k for k in request.session.keys() if k.startswith(STOCKTAKE_SESSION_KEY)]  # noqa: SIM118 - a session is not iterable
    for key in stale:
        del request.session[key]
    token = uuid.uuid4().hex
    request.session[STOCKTAKE_SESSION_KEY + token] = text
    return token


def _read_upload(upload: Any) -> str:
    if upload.size > STOCKTAKE_MAX_BYTES:
        raise StocktakeError(1, f"the file is larger than {STOCKTAKE_MAX_BYTES // 1024} KiB")
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StocktakeError(1, "the file is not UTF-8 text") from exc


def _lines(text: str) -> io.StringIO:
    return io.StringIO(text, newline="")


# --- Locations ---------------------------------------------------------------------------------


@admin.register(Location)
class LocationAdmin(TenantOnlyAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def get_readonly_fields(
        self, request: HttpRequest, obj: Location | None = None
    ) -> tuple[str, ...]:
        return ("code",) if obj else ()

    def save_model(self, request: HttpRequest, obj: Location, form: Any, change: bool) -> None:
        try:
            if change:
                services.location_update(location=obj, name=obj.name)
            else:
                obj.pk = services.location_create(code=obj.code, name=obj.name).pk
        except (ValidationError, services.InventoryError) as exc:
            raise ValidationError(str(exc)) from exc


# --- Restocks ----------------------------------------------------------------------------------


@admin.register(Restock)
class RestockAdmin(TenantOnlyAdmin):
    list_display = ("item", "quantity", "received_quantity", "location", "expected_date", "status")
    list_filter = ("status", "expected_date")
    search_fields = ("item__sku", "item__name")
    autocomplete_fields = ("item",)
    fields = (
        "item",
        "location",
        "quantity",
        "expected_date",
        "status",
        "received_quantity",
        "receipt",
    )
    change_form_template = "admin/inventory/restock/change_form.html"
    actions = ["receive_selected", "cancel_selected"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Restock | None = None
    ) -> tuple[str, ...]:
        # Status and receipts change only through the receive and cancel actions.
        done = ("status", "received_quantity", "receipt")
        if obj is None:
            return done
        if obj.status != RestockStatus.OPEN:
            return ("item", "location", "quantity", "expected_date", *done)
        return ("item", *done)

    def has_receive_restock_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.receive_restock")

    def has_change_permission(self, request: HttpRequest, obj: Restock | None = None) -> bool:
        # A received or cancelled restock is history: its page is read-only (no Save button).
        open_or_list = obj is None or obj.status == RestockStatus.OPEN
        return open_or_list and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Restock, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                services.restock_update(
                    restock=obj,
                    quantity=data["quantity"],
                    expected_date=data["expected_date"],
                    location=data.get("location"),
                )
            else:
                obj.pk = services.restock_create(
                    item=data["item"],
                    quantity=data["quantity"],
                    expected_date=data["expected_date"],
                    location=data.get("location"),
                ).pk
        except (ValidationError, services.InventoryError) as exc:
            raise ValidationError(str(exc)) from exc

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:restock_id>/receive/",
                view(self.receive_view),
                name="inventory_restock_receive",
            ),
            path(
                "<int:restock_id>/cancel/", view(self.cancel_view), name="inventory_restock_cancel"
            ),
            *super().get_urls(),
        ]

    def change_context(self, request: HttpRequest, object_id: str) -> dict[str, Any]:
        return {"can_receive": self.has_receive_restock_permission(request)}

    def receive_view(self, request: HttpRequest, restock_id: int) -> HttpResponse:
        _require(request, "receive_restock")
        restock = get_object_or_404(Restock.objects.select_related("item"), pk=restock_id)
        form = RestockReceiveForm(request.POST or None, restock=restock)
        if request.method == "POST" and form.is_valid():
            try:
                services.restock_receive(
                    restock=restock,
                    actor=actor_for(request),
                    location=form.cleaned_data["location"],
                    quantity=form.cleaned_data["quantity"],
                    idempotency_key=form.idempotency_key,
                )
            except services.InventoryError as exc:
                form.add_error(None, str(exc))
            else:
                restock.refresh_from_db()
                messages.success(request, _received_message(restock, form.cleaned_data["quantity"]))
                return HttpResponseRedirect(
                    reverse("admin:inventory_restock_change", args=[restock.pk])
                )
        title = f"Receive restock #{restock.pk}: {restock.item.sku}"
        return self._restock_page(request, restock, "Receive", title=title, form=form)

    def cancel_view(self, request: HttpRequest, restock_id: int) -> HttpResponse:
        _require(request, "receive_restock")
        restock = get_object_or_404(Restock.objects.select_related("item"), pk=restock_id)
        if request.method == "POST":
            try:
                services.restock_cancel(restock=restock)
            except services.InventoryError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Restock #{restock.pk} cancelled.")
            return HttpResponseRedirect(
                reverse("admin:inventory_restock_change", args=[restock.pk])
            )
        return self._restock_page(request, restock, "Cancel", title=f"Cancel restock #{restock.pk}")

    def _restock_page(
        self, request: HttpRequest, restock: Restock, crumb: str, **context: Any
    ) -> TemplateResponse:
        return self.form_page(
            request,
            f"restock/{crumb.lower()}.html",
            crumb=crumb,
            object=restock,
            object_label=f"#{restock.pk}",
            restock=restock,
            **context,
        )

    @admin.action(
        description="Receive selected in full (into their location)",
        permissions=["receive_restock"],
    )
    def receive_selected(self, request: HttpRequest, queryset: QuerySet[Restock]) -> None:
        self._each(
            request,
            queryset,
            "received",
            lambda r: services.restock_receive(restock=r, actor=actor_for(request)),
        )

    @admin.action(description="Cancel selected", permissions=["receive_restock"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Restock]) -> None:
        self._each(request, queryset, "cancelled", lambda r: services.restock_cancel(restock=r))

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Restock],
        done: str,
        service: Callable[[Restock], object],
    ) -> None:
        """Apply a service to each selected restock; one message per restock, refusals too."""
        for restock in queryset:
            try:
                service(restock)
            except services.InventoryError as exc:
                self.message_user(request, f"Restock #{restock.pk}: {exc}", level=messages.ERROR)
            else:
                self.message_user(request, f"Restock #{restock.pk} {done}.")


def _received_message(restock: Restock, quantity: int) -> str:
    if restock.status == RestockStatus.RECEIVED:
        return f"Received {quantity}: restock #{restock.pk} is complete."
    return f"Received {quantity}; {restock.remaining} of restock #{restock.pk} stay open."


# --- Ledger ------------------------------------------------------------------------------------


@admin.register(Movement)
class MovementAdmin(ReadOnlyMixin, ExportMixin):
    list_display = (
        "created_at",
        "kind",
        "sku",
        "change",
        "where",
        "balance",
        "short_reason",
        "actor",
    )
    list_filter = ("kind", "created_at")
    search_fields = ("item__sku", "item__name", "reason", "idempotency_key")
    search_help_text = "Search by SKU, item name, reason or idempotency key."
    date_hierarchy = "created_at"
    change_list_template = "admin/inventory/movement/change_list.html"
    list_per_page = 50
    export_name = "ledger"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Movement]:
        return selectors.ledger_with_balance()

    export_table = staticmethod(exports.ledger_table)

    @admin.display(description="SKU", ordering="item__sku")
    def sku(self, obj: Movement) -> str:
        return obj.item.sku

    @admin.display(description="Change")
    def change(self, obj: Movement) -> SafeString:
        delta = obj.delta  # type: ignore[attr-defined]
        css = "plus" if delta > 0 else "minus" if delta < 0 else "moved"
        return format_html('<span class="change {}">{}</span>', css, _signed(delta, obj.quantity))

    @admin.display(description="Where")
    def where(self, obj: Movement) -> str:
        source = obj.from_location.code if obj.from_location else ""
        target = obj.to_location.code if obj.to_location else ""
        return f"{source} → {target}" if source and target else source or target

    @admin.display(description="Balance")
    def balance(self, obj: Movement) -> int:
        return obj.balance  # type: ignore[attr-defined, no-any-return]

    @admin.display(description="Reason", ordering="reason")
    def short_reason(self, obj: Movement) -> str:
        return obj.reason if len(obj.reason) <= 40 else obj.reason[:39] + "…"


# --- Low-stock job (issue 7) -----------------------------------------------------------------


@admin.register(LowStockReport)
class LowStockReportAdmin(ReadOnlyMixin, ExportMixin):
    """The low-stock job's results for this tenant, newest first (written by the beat task)."""

    list_display = ("created_at", "item_count", "low_skus", "webhook_status", "webhook_attempts")
    list_filter = ("webhook_status",)
    date_hierarchy = "created_at"
    change_list_template = "admin/inventory/lowstockreport/change_list.html"
    export_name = "low-stock"
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

    export_table = staticmethod(exports.low_stock_table)

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
