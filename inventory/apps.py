"""App config for the per-tenant inventory app."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from tenancy.signals import tenant_schema_ready


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Receivers import models, so they load here, once the app registry is ready (Django's
        # pattern for signal receivers).
        from inventory import receivers

        # After auth's own post_migrate handler (auth is installed first), which creates the
        # permissions the roles are made of.
        post_migrate.connect(receivers.sync_roles_after_migrate, sender=self)
        tenant_schema_ready.connect(
            receivers.sync_roles_on_provision, dispatch_uid="inventory-roles"
        )
