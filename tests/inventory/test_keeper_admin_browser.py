"""A Stock keeper's day in real Chromium (1366x768 and a 390 px phone): every move from the item
page and as a bulk action, restocks received in part, history and chart, exports, the stocktake
import, labels with barcodes; and a Viewer who can write nothing.

The tenant `keeper` (host keeper.localhost) belongs to this module alone; its time zone is
Asia/Tokyo so that every time the admin shows is checked against the tenant's zone.
With UPDATE_SCREENSHOTS=1 the screenshots for docs/admin.md are written to docs/img/.
"""

import csv
import io
import json
import os
import zoneinfo
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_tenants.utils import schema_context

from inventory import low_stock, selectors, services
from inventory.models import Item, Location, Movement, Restock, StockLevel
from inventory.roles import STOCK_KEEPER, VIEWER, roles_sync
from tenancy.models import Tenant
from tests.inventory.conftest import ARTIFACTS, admin_login
from tests.support import ROOT, manage

pytestmark = pytest.mark.browser

SCHEMA, ZONE = "keeper", "Asia/Tokyo"
PASSWORD = "keeper-pass-2026"
SHOTS = ROOT / "docs" / "img" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else ARTIFACTS


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.fixture(scope="module")
def tenant(server) -> Tenant:  # noqa: ANN001 - the session's live server must be up
    from tests.conftest import provision

    tenant = Tenant.objects.filter(schema_name=SCHEMA).first() or provision(SCHEMA)
    Tenant.objects.filter(pk=tenant.pk).update(time_zone=ZONE)
    with schema_context(SCHEMA):
        roles_sync()
        for username, group in (("kim", STOCK_KEEPER), ("vic", VIEWER)):
            user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
            user.groups.add(Group.objects.get(name=group))
        services.location_create(code="MAIN", name="Main warehouse")
        services.location_create(code="SHOP", name="Shop floor")
    return tenant


@pytest.fixture(scope="module")
def base(server, tenant) -> str:  # noqa: ANN001
    return f"http://{SCHEMA}.localhost:{server.port}"


def _context(browser: Any, base: str, username: str, width: int, height: int) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    admin_login(page, base, username, PASSWORD)
    return context, page


@pytest.fixture(scope="module")
def desk(browser, base) -> Iterator[Any]:  # noqa: ANN001
    """The Stock keeper, logged in once, at 1366x768."""
    context, page = _context(browser, base, "kim", 1366, 768)
    yield page
    context.close()


@pytest.fixture(scope="module")
def phone(browser, base) -> Iterator[Any]:  # noqa: ANN001
    """The same Stock keeper on a 390 px wide phone."""
    context, page = _context(browser, base, "kim", 390, 844)
    yield page
    context.close()


@pytest.fixture(scope="module")
def viewer(browser, base) -> Iterator[Any]:  # noqa: ANN001
    context, page = _context(browser, base, "vic", 1366, 768)
    yield page
    context.close()


def new_item(sku: str, reorder_point: int = 0, **stock: int) -> Item:
    with schema_context(SCHEMA):
        item = services.item_create(sku=sku, name=f"Widget {sku}", reorder_point=reorder_point)
        for code, quantity in stock.items():
            services.movement_record(
                kind="receipt",
                item=item,
                quantity=quantity,
                to_location=Location.objects.get(code=code),
                actor="test",
                reason="opening stock",
            )
    return item


def on_hand(sku: str) -> dict[str, int]:
    with schema_context(SCHEMA):
        return {r["location"]: r["quantity"] for r in selectors.stock_by_location(sku=sku)}


def assert_all_agree(sku: str, expected: dict[str, int]) -> None:
    """On-hand, the ledger rebuilt from scratch and `manage.py check_stock` tell one story."""
    with schema_context(SCHEMA):
        item = Item.objects.get(sku=sku)
        codes = dict(Location.objects.values_list("pk", "code"))
        ledger = {codes[k]: v for k, v in selectors.ledger_balance(item=item).items() if v}
    levels = {k: v for k, v in on_hand(sku).items() if v}
    assert levels == ledger == {k: v for k, v in expected.items() if v}
    result = manage("check_stock", "--tenant", SCHEMA, sku, "--locations")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["quantity"] == sum(expected.values())
    assert {r["location"]: r["quantity"] for r in answer["locations"] if r["quantity"]} == levels


def post_form(page: Any, url: str, form: dict[str, str]) -> tuple[int, str]:
    """POST a form with the page's session and CSRF token (a fetch from inside the page, so
    the host resolves as in the browser); the status and text of the final answer."""
    return tuple(  # type: ignore[return-value]
        page.evaluate(
            """async ([url, form]) => {
                const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
                const r = await fetch(url, {method: "POST", body: new URLSearchParams(form),
                                            headers: {"X-CSRFToken": token}});
                return [r.status, await r.text()];
            }""",
            [url, form],
        )
    )


def open_item(page: Any, base: str, item: Item) -> None:
    page.goto(f"{base}/admin/inventory/item/{item.pk}/change/")


def do_move(page: Any, base: str, item: Item, move: str, fields: dict[str, str]) -> str:
    """Open the item page, click the move's button, fill the form, record it; the message."""
    open_item(page, base, item)
    page.click(f"a.move-{move}")
    for name, value in fields.items():
        selector = f"#id_{name}"
        if name.endswith("location"):
            page.select_option(selector, label=value)
        else:
            page.fill(selector, value)
    page.click("input[name=_save]")
    return str(page.locator(".messagelist, .errornote").first.inner_text())


def test_every_move_from_the_item_page(desk, base, unique_sku):
    item = new_item(unique_sku)
    assert "Received 10" in do_move(
        desk, base, item, "receive", {"to_location": "MAIN", "quantity": "10", "reason": "PO 7"}
    )
    assert "Issued 2" in do_move(
        desk, base, item, "issue", {"from_location": "MAIN", "quantity": "2", "reason": "order 1"}
    )
    moved = do_move(
        desk,
        base,
        item,
        "transfer",
        {"from_location": "MAIN", "to_location": "SHOP", "quantity": "3", "reason": "display"},
    )
    assert "Moved 3" in moved
    assert "Counted 5" in do_move(
        desk, base, item, "count", {"location": "SHOP", "counted": "5", "reason": "cycle count"}
    )
    assert "adjustment of -1" in do_move(
        desk, base, item, "adjust", {"location": "MAIN", "change": "-1", "reason": "damaged"}
    )
    assert_all_agree(unique_sku, {"MAIN": 4, "SHOP": 5})
    # The item page: per-location table (no stray "SKU@LOC: n" caption), signed history, balance.
    page_text = desk.inner_text("#content")
    assert f"{unique_sku}@" not in page_text
    assert desk.inner_text("#stock-per-location tbody").split() == ["MAIN", "4", "SHOP", "5"]
    rows = desk.locator("#recent-movements tbody tr")
    changes = [rows.nth(i).locator("td.change").inner_text() for i in range(rows.count())]
    balances = [rows.nth(i).locator("td.balance").inner_text() for i in range(rows.count())]
    assert changes == ["\u22121", "+2", "3 moved", "\u22122", "+10"]
    assert balances == ["9", "10", "8", "8", "10"]
    # A refusal says so once, and records nothing.
    message = do_move(
        desk, base, item, "issue", {"from_location": "SHOP", "quantity": "50", "reason": "too many"}
    )
    assert "insufficient stock" in message
    assert desk.content().count("insufficient stock") == 1
    assert_all_agree(unique_sku, {"MAIN": 4, "SHOP": 5})


def _backdated_history(item: Item, steps: list[tuple[int, int]]) -> None:
    """Ledger rows `days` ago (+ receipt, - issue at MAIN), as they would be had the keeper
    recorded them then (movement_record always stamps now), and on-hand rebuilt from them."""
    with schema_context(SCHEMA):
        main = Location.objects.get(code="MAIN")
        for days, change in steps:
            Movement.objects.create(
                kind="receipt" if change > 0 else "issue",
                item=item,
                quantity=abs(change),
                to_location=main if change > 0 else None,
                from_location=None if change > 0 else main,
                actor="test",
                reason="history",
                created_at=timezone.now() - timedelta(days=days),
            )
        StockLevel.objects.update_or_create(
            item=item, location=main, defaults={"on_hand": sum(c for _, c in steps)}
        )


def test_history_chart_is_built_from_the_ledger(desk, base, unique_sku):
    item = new_item(unique_sku)
    _backdated_history(item, [(60, 20), (40, -8), (20, 10), (5, -15)])
    with schema_context(SCHEMA):
        services.movement_record(
            kind="issue",
            item=item,
            quantity=5,
            from_location=Location.objects.get(code="MAIN"),
            actor="test",
            reason="today",
        )
    open_item(desk, base, item)
    chart = desk.locator("svg#stock-chart")
    balances = [int(b) for b in chart.get_attribute("data-balances").split(",")]
    expected = [0] * 29 + [20] * 20 + [12] * 20 + [22] * 15 + [7] * 5 + [2]
    assert balances == expected
    tokyo_today = timezone.now().astimezone(zoneinfo.ZoneInfo(ZONE)).date()
    assert chart.get_attribute("data-last-day") == tokyo_today.isoformat()
    assert chart.locator("path.balance").get_attribute("d").startswith("M")
    assert_all_agree(unique_sku, {"MAIN": 2})
    desk.evaluate("document.querySelector('#stock-chart').scrollIntoView()")
    shot(desk, "item-page.png")


def test_restock_is_received_in_part_then_in_full_never_by_editing_status(desk, base, unique_sku):
    item = new_item(unique_sku)
    with schema_context(SCHEMA):
        expected = timezone.localdate() + timedelta(days=3)
        restock = services.restock_create(item=item, quantity=10, expected_date=expected)
    desk.goto(f"{base}/admin/inventory/restock/{restock.pk}/change/")
    assert desk.locator("[name=status]").count() == 0  # status is shown, never editable
    desk.click("a.restock-receive")
    desk.select_option("#id_location", label="SHOP")
    desk.fill("#id_quantity", "4")
    shot(desk, "restock-receive.png")
    desk.click("input[name=_save]")
    assert "6 of restock" in desk.inner_text(".messagelist")
    with schema_context(SCHEMA):
        restock.refresh_from_db()
    assert (restock.status, restock.received_quantity) == ("open", 4)
    check = json.loads(manage("check_stock", "--tenant", SCHEMA, unique_sku).stdout)
    assert check == {"sku": unique_sku, "found": True, "quantity": 4, "restock_date": str(expected)}
    desk.click("a.restock-receive")
    assert desk.input_value("#id_quantity") == "6"
    desk.select_option("#id_location", label="MAIN")
    desk.click("input[name=_save]")
    assert "is complete" in desk.inner_text(".messagelist")
    assert desk.locator("a.restock-receive").count() == 0
    assert_all_agree(unique_sku, {"SHOP": 4, "MAIN": 6})
    check = json.loads(manage("check_stock", "--tenant", SCHEMA, unique_sku).stdout)
    assert check["restock_date"] is None


def _select_and_run(page: Any, base: str, items: list[Item], action: str, go: bool = True) -> None:
    ids = ",".join(str(item.pk) for item in items)
    page.goto(f"{base}/admin/inventory/item/?id__in={ids}")
    for item in items:
        page.check(f"input[name=_selected_action][value='{item.pk}']")
    page.select_option("select[name=action]", action)
    if go:
        page.click("button[name=index]")


def test_bulk_count_and_deactivate(desk, base, unique_sku):
    first, second = new_item(unique_sku + "A", MAIN=5), new_item(unique_sku + "B", MAIN=1)
    _select_and_run(desk, base, [first, second], "count_selected")
    desk.select_option("#id_location", label="MAIN")
    desk.fill(f"#id_counted_{first.pk}", "3")
    desk.fill(f"#id_counted_{second.pk}", "8")
    desk.click("input[name=apply]")
    assert "Counted 2 item(s) at MAIN: 2 changed" in desk.inner_text(".messagelist")
    assert_all_agree(first.sku, {"MAIN": 3})
    assert_all_agree(second.sku, {"MAIN": 8})
    _select_and_run(desk, base, [first], "deactivate_selected")
    assert "Deactivated 1 item(s)" in desk.inner_text(".messagelist")
    with schema_context(SCHEMA):
        assert not Item.objects.get(pk=first.pk).active and Item.objects.get(pk=second.pk).active


def test_ledger_shows_signed_changes_balance_and_tenant_time_and_fits_1366(desk, base, unique_sku):
    item = new_item(unique_sku, MAIN=6)
    with schema_context(SCHEMA):
        services.stock_adjust(
            item=item,
            location=Location.objects.get(code="MAIN"),
            delta=-1,
            reason="dropped",
            actor="test",
        )
        latest = Movement.objects.filter(item=item).order_by("-id").first()
    desk.goto(f"{base}/admin/inventory/movement/?q={unique_sku}")
    first_row = desk.locator("#result_list tbody tr").first
    assert first_row.locator("td.field-change").inner_text() == "\u22121"
    assert first_row.locator("td.field-balance").inner_text() == "5"
    shown = latest.created_at.astimezone(zoneinfo.ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
    assert first_row.locator("th.field-created_at, td.field-created_at").inner_text() == shown
    assert desk.inner_text(".time-zone-note") == f"Times are in {ZONE}."
    assert desk.locator("#changelist-filter").inner_text().lower().count("by item") == 0
    assert desk.evaluate("document.documentElement.scrollWidth") <= 1366
    shot(desk, "ledger.png")


def test_low_stock_rows_are_highlighted_and_a_scanned_sku_opens_the_item(desk, base, unique_sku):
    low, fine = new_item(unique_sku + "L", 5, MAIN=2), new_item(unique_sku + "F", 1, MAIN=9)
    desk.goto(f"{base}/admin/inventory/item/?q={unique_sku}")
    assert desk.locator("#result_list tr:has(.low-stock)").count() == 1
    assert low.sku in desk.locator("#result_list tr:has(.low-stock)").inner_text()
    desk.fill("#searchbar", fine.sku)
    desk.press("#searchbar", "Enter")  # what a keyboard-wedge scanner does
    desk.wait_for_url(f"{base}/admin/inventory/item/{fine.pk}/change/")


def _download(page: Any, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def test_exports_open_and_match_the_database(desk, base, unique_sku):
    from openpyxl import load_workbook

    a, b = new_item(unique_sku + "1", 4, MAIN=3), new_item(unique_sku + "2", 0, SHOP=7)
    # The admin (and so its exports) dates "next restock" in the tenant's zone: the expectation is
    # computed there too, or from 15:00 UTC on Tokyo's today is UTC's tomorrow.
    with schema_context(SCHEMA), timezone.override(zoneinfo.ZoneInfo(ZONE)):
        services.restock_create(item=a, quantity=5, expected_date=timezone.localdate())
        expected = {
            i.sku: [i.sku, i.name, i.unit, i.on_hand, i.reorder_point, i.next_restock]
            for i in selectors.item_list_with_stock().filter(sku__startswith=unique_sku)
        }
        report = low_stock.low_stock_report_create()
    desk.goto(f"{base}/admin/inventory/item/?q={unique_sku}")
    rows = list(csv.reader(io.StringIO(_download(desk, "a.export-csv").decode())))
    assert rows[0][:6] == ["sku", "name", "unit", "on_hand", "reorder_point", "next_restock"]
    as_text = {k: [str(v) if v is not None else "" for v in row] for k, row in expected.items()}
    assert {r[0]: r[:6] for r in rows[1:]} == as_text
    sheet = load_workbook(io.BytesIO(_download(desk, "a.export-xlsx"))).active
    cells = list(sheet.iter_rows(values_only=True))
    assert {r[0]: [*r[:5], r[5] and str(r[5])] for r in cells[1:]} == {
        k: [*v[:5], v[5] and v[5].isoformat()] for k, v in expected.items()
    }
    desk.goto(f"{base}/admin/inventory/movement/?item__id__exact={b.pk}")
    ledger = list(csv.reader(io.StringIO(_download(desk, "a.export-csv").decode())))
    assert [(r[3], r[4], r[8]) for r in ledger[1:]] == [(b.sku, "7", "7")]
    desk.goto(f"{base}/admin/inventory/lowstockreport/")
    low = load_workbook(io.BytesIO(_download(desk, "a.export-xlsx"))).active
    mine = [
        r
        for r in low.iter_rows(values_only=True)
        if r[0] == report.pk and str(r[2]).startswith(unique_sku)
    ]
    assert [(r[2], r[4], r[5]) for r in mine] == [(a.sku, 3, 4)]


def test_stocktake_import_previews_then_applies_exactly_once(desk, base, unique_sku):
    item = new_item(unique_sku, MAIN=2)
    body = f"sku,name,location,quantity\n{unique_sku},,MAIN,9\n{unique_sku}N,New one,SHOP,4\n"
    desk.goto(f"{base}/admin/inventory/item/")
    desk.click("a.import-stocktake")
    desk.set_input_files(
        "#id_file", files=[{"name": "count.csv", "mimeType": "text/csv", "buffer": body.encode()}]
    )
    desk.click("input[name=_preview]")
    preview = desk.inner_text("#import-preview")
    assert "+7" in preview and "new item" in preview
    assert on_hand(unique_sku) == {"MAIN": 2}  # a preview changes nothing
    token = desk.input_value("input[name=token]")
    desk.click("input[name=apply]")
    assert "Imported 2 rows" in desk.inner_text(".messagelist")
    assert_all_agree(unique_sku, {"MAIN": 9})
    assert_all_agree(unique_sku + "N", {"SHOP": 4})
    # The same preview applied a second time changes nothing.
    _, again = post_form(desk, "/admin/inventory/item/import/", {"token": token, "apply": "1"})
    assert "already applied" in again
    with schema_context(SCHEMA):
        assert Movement.objects.filter(item=item, kind="count").count() == 1
    # A bad row refuses the whole file, naming its line.
    bad = f"sku,name,location,quantity\n{unique_sku},,MAIN,1\n{unique_sku},,MAIN,x\n"
    desk.goto(f"{base}/admin/inventory/item/import/")
    desk.set_input_files(
        "#id_file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    desk.click("input[name=_preview]")
    assert "line 3" in desk.inner_text(".errorlist")
    assert on_hand(unique_sku) == {"MAIN": 9}


def test_labels_pdf_carries_the_skus_as_code128_and_qr(desk, base, unique_sku):
    import pypdfium2
    import zxingcpp

    items = [new_item(unique_sku + "X"), new_item(unique_sku + "Y")]
    _select_and_run(desk, base, items, "labels_selected", go=False)
    with desk.expect_download() as info:
        desk.click("button[name=index]")
    pdf = pypdfium2.PdfDocument(Path(info.value.path()).read_bytes())
    image = pdf[0].render(scale=5).to_pil()  # 360 dpi, as a label printer
    pdf.close()
    found = {(str(r.format), r.text) for r in zxingcpp.read_barcodes(image)}
    wanted = {sku for sku in (i.sku for i in items)}
    assert {text for fmt, text in found if "128" in fmt} == wanted
    assert {text for fmt, text in found if "QR" in fmt} == wanted
    SHOTS.mkdir(parents=True, exist_ok=True)
    image.crop((0, 0, image.width, image.height // 3)).resize(
        (image.width // 3, image.height // 9)
    ).save(SHOTS / "labels.png")


def test_phone_keeper_moves_and_counts(phone, base, unique_sku):
    item = new_item(unique_sku, MAIN=8)
    assert "Moved 5" in do_move(
        phone,
        base,
        item,
        "transfer",
        {"from_location": "MAIN", "to_location": "SHOP", "quantity": "5", "reason": "phone"},
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    phone.click("a.move-count")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    shot(phone, "phone-count.png")
    assert "Counted 2" in do_move(
        phone, base, item, "count", {"location": "SHOP", "counted": "2", "reason": "phone"}
    )
    other = new_item(unique_sku + "P", MAIN=1)
    _select_and_run(phone, base, [other], "count_selected")
    phone.select_option("#id_location", label="MAIN")
    phone.fill(f"#id_counted_{other.pk}", "0")
    phone.click("input[name=apply]")
    assert "1 changed" in phone.inner_text(".messagelist")
    assert_all_agree(unique_sku, {"MAIN": 3, "SHOP": 2})
    assert_all_agree(other.sku, {})


def test_viewer_sees_but_can_write_nothing(viewer, base, unique_sku):
    item = new_item(unique_sku, MAIN=4)
    with schema_context(SCHEMA):
        restock = services.restock_create(item=item, quantity=2, expected_date=timezone.localdate())
    open_item(viewer, base, item)
    assert viewer.locator("#stock-chart").count() == 1
    assert viewer.locator("a[class^=move-]").count() == 0
    assert viewer.locator("input[name=_save]").count() == 0
    viewer.goto(f"{base}/admin/inventory/item/")
    options = viewer.locator("select[name=action] option").all_inner_texts()
    assert not any("Count" in o or "Deactivate" in o for o in options)
    assert viewer.locator("a.import-stocktake").count() == 0
    attempts = [
        f"/admin/inventory/item/{item.pk}/issue/",
        f"/admin/inventory/item/{item.pk}/adjust/",
        "/admin/inventory/item/import/",
        f"/admin/inventory/restock/{restock.pk}/receive/",
        f"/admin/inventory/restock/{restock.pk}/cancel/",
        f"/admin/inventory/item/{item.pk}/change/",
        "/admin/inventory/item/add/",
    ]
    for url in attempts:
        form = {"from_location": "1", "location": "1", "quantity": "1", "change": "-4"}
        status, _ = post_form(viewer, url, form | {"reason": "x"})
        assert status == 403, url
    status, text = post_form(
        viewer,
        "/admin/inventory/item/",
        {"action": "count_selected", "_selected_action": str(item.pk), "apply": "1"},
    )
    assert status == 200 and "No action selected" in text
    assert_all_agree(unique_sku, {"MAIN": 4})
    with schema_context(SCHEMA):
        assert Restock.objects.get(pk=restock.pk).status == "open"
