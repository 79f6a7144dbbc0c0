"""Signal receivers of the inventory app, connected by InventoryConfig.ready()."""

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django_tenants.utils import get_public_schema_name

from inventory.roles import roles_sync


def sync_roles_after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Keep the tenant roles current in every tenant schema `migrate_schemas` touches."""
    if connections[using].schema_name != get_public_schema_name():  # type: ignore[attr-defined]
        roles_sync()


def sync_roles_on_provision(**kwargs: Any) -> None:
    """A provisioned tenant gets the roles (the template-replay path runs no post_migrate)."""
    roles_sync()
