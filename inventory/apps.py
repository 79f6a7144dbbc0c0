"""App config for the per-tenant inventory app."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Keep the tenant roles current in every tenant schema `migrate_schemas` touches."""
    from django.db import connections
    from django_tenants.utils import get_public_schema_name

    from inventory.roles import roles_sync

    if connections[using].schema_name != get_public_schema_name():  # type: ignore[attr-defined]
        roles_sync()


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # After auth's own post_migrate handler (auth is installed first), which creates the
        # permissions the roles are made of.
        post_migrate.connect(_sync_roles_after_migrate, sender=self)
