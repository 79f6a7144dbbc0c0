"""The tenant roles as auth Groups: "Stock keeper" (daily stock work) and "Viewer" (read only).

`roles_sync()` creates or updates both groups, with their permissions, in the current schema.
Tenant provisioning calls it (the template-replay path runs no post_migrate), and so does
`migrate` for every tenant schema (InventoryConfig.ready), so existing tenants get them too.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

STOCK_KEEPER = "Stock keeper"
VIEWER = "Viewer"

# Permission codename prefixes on the inventory app's models, per role.
_ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    STOCK_KEEPER: ("view", "add", "change"),
    VIEWER: ("view",),
}


def _permissions(actions: tuple[str, ...]) -> list[Permission]:
    candidates = Permission.objects.filter(content_type__app_label="inventory")
    return [p for p in candidates if p.codename.split("_", 1)[0] in actions]


@transaction.atomic
def roles_sync() -> None:
    """Idempotently create or update both groups, with exactly their permissions."""
    for name, actions in _ROLE_ACTIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(actions))
