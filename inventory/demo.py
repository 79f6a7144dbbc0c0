"""The demo tenant's data: about 20 items in 2 locations, some stock and open restocks."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from inventory import services
from inventory.keepers import keeper_create, keeper_role_set
from inventory.models import Item, Location, MovementKind, Restock
from inventory.roles import STOCK_KEEPER

DEMO_USERNAME = "keeper"
DEMO_PASSWORD = "demo-keeper-2026"  # noqa: S105 - a documented development-only login

LOCATIONS = [("MAIN", "Main warehouse"), ("SHOP", "Shop floor")]
ITEMS = [
    ("ABC123", "Hex bolt M8x40", 120, 40),
    ("ABC124", "Hex nut M8", 300, 100),
    ("ABC125", "Washer 8mm", 0, 150),
    ("CAB-USB-C-1M", "USB-C cable 1 m", 42, 20),
    ("CAB-USB-C-2M", "USB-C cable 2 m", 8, 20),
    ("CAB-HDMI-2M", "HDMI cable 2 m", 15, 10),
    ("PWR-65W", "65 W USB-C charger", 5, 10),
    ("PWR-100W", "100 W USB-C charger", 12, 5),
    ("KB-US-01", "Keyboard, US layout", 25, 10),
    ("KB-DE-01", "Keyboard, German layout", 3, 5),
    ("MS-WL-01", "Wireless mouse", 60, 15),
    ("MON-27-4K", '27" 4K monitor', 7, 4),
    ("MON-24-FHD", '24" FHD monitor', 0, 4),
    ("DOCK-TB4", "Thunderbolt 4 dock", 9, 3),
    ("SSD-1TB", "NVMe SSD 1 TB", 31, 10),
    ("SSD-2TB", "NVMe SSD 2 TB", 2, 5),
    ("RAM-16G", "16 GB DDR5 module", 44, 12),
    ("LBL-4X6", "Shipping labels 4x6 (500)", 18, 6),
    ("TAPE-48", "Packing tape 48 mm", 70, 24),
    ("BOX-M", "Carton, medium", 140, 50),
]


def demo_seed() -> dict[str, object]:
    """Create the demo data in the current tenant; running it again changes nothing."""
    locations = [
        Location.objects.get_or_create(code=c, defaults={"name": n})[0] for c, n in LOCATIONS
    ]
    for index, (sku, name, quantity, reorder) in enumerate(ITEMS):
        item = Item.objects.filter(sku=sku).first() or services.item_create(
            sku=sku, name=name, reorder_point=reorder
        )
        if quantity:
            services.movement_record(
                kind=MovementKind.RECEIPT,
                item=item,
                quantity=quantity,
                to_location=locations[index % 2],
                actor="command:seed_demo",
                reason="demo opening stock",
                idempotency_key=f"demo-opening-{sku}",
            )
        if reorder >= quantity and not Restock.objects.filter(item=item).exists():
            services.restock_create(
                item=item,
                quantity=reorder * 2,
                location=locations[0],
                expected_date=timezone.localdate() + timedelta(days=3 + index % 7),
            )
    _staff_user()
    return {
        "items": Item.objects.count(),
        "locations": len(locations),
        "open_restocks": Restock.objects.filter(status="open").count(),
    }


def _staff_user() -> None:
    """The demo keeper: staff in the "Stock keeper" group, not a superuser."""
    user = get_user_model().objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        keeper_create(username=DEMO_USERNAME, password=DEMO_PASSWORD, role=STOCK_KEEPER)
    else:
        keeper_role_set(user=user, role=STOCK_KEEPER)
