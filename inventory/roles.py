"""The tenant admin's roles as Django groups: "Stock keeper" and "Viewer".

roles_sync() creates or updates both groups, with exactly the permissions listed here, in the
current schema; it is idempotent. Tenant provisioning calls it (the template-replay path runs no
post_migrate), and so does `migrate` for every tenant schema (InventoryConfig.ready), so
existing tenants get the groups too.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

STOCK_KEEPER = "Stock keeper"
VIEWER = "Viewer"

# Inventory models a role may see. ReportSettings holds the webhook secret: settings are for
# administrators (superusers), not for either role.
_VIEWABLE = ("item", "location", "stocklevel", "movement", "restock", "lowstockreport")

# Keepers add and change the descriptive models; stock itself changes only through movements,
# which the admin records through inventory.services (the custom permissions below). Nobody in a
# role deletes: items, locations and restocks with history are kept for the ledger.
_KEEPER_EXTRA = (
    "add_item",
    "change_item",
    "add_location",
    "change_location",
    "add_restock",
    "change_restock",
    "record_movement",
    "import_stocktake",
    "receive_restock",
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    STOCK_KEEPER: tuple(f"view_{m}" for m in _VIEWABLE) + _KEEPER_EXTRA,
    VIEWER: tuple(f"view_{m}" for m in _VIEWABLE),
}


@transaction.atomic
def roles_sync() -> None:
    """Create or update both groups so each holds exactly its permissions (current schema)."""
    for name, codenames in ROLE_PERMISSIONS.items():
        perms = list(
            Permission.objects.filter(content_type__app_label="inventory", codename__in=codenames)
        )
        missing = set(codenames) - {p.codename for p in perms}
        if missing:
            raise RuntimeError(f"permissions missing (migrate first): {', '.join(sorted(missing))}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(perms)
