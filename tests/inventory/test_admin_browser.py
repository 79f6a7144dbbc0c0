"""A stock keeper in a real Chromium: log in to the tenant admin, adjust stock, see the ledger."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from inventory import services
from tests.inventory.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture
def keeper(tenant_a):
    with schema_context(tenant_a.schema_name):
        user_model = get_user_model()
        user = user_model.objects.filter(username="alice").first()
        if user is None:
            user_model.objects.create_superuser("alice", "alice@alpha.localhost", "alice-pass-123")
    return "alice", "alice-pass-123"


def test_keeper_adjusts_stock_and_sees_quantity_and_ledger(browser, server, keeper, unique_sku):
    with schema_context("alpha"):
        item = services.item_create(sku=unique_sku, name="Browser widget")
        loc = services.location_create(code=f"BR{unique_sku[-6:]}", name="Browser shelf")
        services.movement_record(kind="receipt", item=item, quantity=10, to_location=loc, actor="t")
    base = f"http://alpha.localhost:{server.port}"  # *.localhost resolves to loopback in Chromium
    page = browser.new_page()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", keeper[0])
    page.fill("#id_password", keeper[1])
    page.click("input[type=submit]")
    page.goto(f"{base}/admin/inventory/item/?q={unique_sku}")
    page.click(f"text={unique_sku}")
    page.click("a.adjust-stock")
    assert page.inner_text("#on-hand") == "10"
    page.select_option("#id_location", label=loc.code)
    page.fill("#id_change", "-3")
    page.fill("#id_reason", "damaged in transit")
    page.click("input[name=_save]")
    assert "Recorded an adjustment of -3" in page.inner_text(".messagelist")
    assert "7" in page.inner_text(".field-total_on_hand")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-item-after-adjust.png"), full_page=True)
    page.click("text=Ledger")
    ledger = page.inner_text("#result_list")
    assert "damaged in transit" in ledger and "Adjustment" in ledger and "user:alice" in ledger
    page.screenshot(path=str(ARTIFACTS / "admin-ledger.png"), full_page=True)
